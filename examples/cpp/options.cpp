// options.cpp -- parsing train_mlp's command line; every value is checked whole and in range.
#include "options.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "errors.hpp"

namespace trainer {
namespace {

constexpr int64_t kQuickSteps = 200;
constexpr uint64_t kMaxSteps = 100000000;
constexpr uint64_t kMaxWidth = 65536;  // hidden width and minibatch rows
constexpr uint64_t kMaxLayers = 64;

// A whole decimal number in [min, max], nothing else (strtoull alone accepts "-1", " 5" and "5x").
uint64_t parse_number(const char* option, const char* text, uint64_t min, uint64_t max) {
    if (text == nullptr) throw UsageError(std::string("missing value after ") + option);
    if (text[0] < '0' || text[0] > '9') {
        throw UsageError(std::string(option) + " expects a non-negative whole number, got " + text);
    }
    errno = 0;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max) {
        throw UsageError(std::string(option) + " takes a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", got " + text);
    }
    return value;
}

int parse_int(const char* option, const char* text, uint64_t min, uint64_t max) {
    return static_cast<int>(parse_number(option, text, min, max));
}

void parse_device(const char* text, Options* options) {
    const std::string value = text != nullptr ? text : "";
    if (value == "auto") {
        options->device = DeviceChoice::kAuto;
    } else if (value == "cpu") {
        options->device = DeviceChoice::kCpu;
    } else if (value == "cuda") {
        options->device = DeviceChoice::kCuda;
        options->cuda_device = 0;
    } else if (value.compare(0, 5, "cuda:") == 0) {
        options->device = DeviceChoice::kCuda;
        options->cuda_device = parse_int("--device cuda:N", text + 5, 0, 1023);
    } else {
        throw UsageError("--device takes cpu, cuda, cuda:N or auto, got '" + value + "'");
    }
}

}  // namespace

void print_usage(std::FILE* out) {
    std::fprintf(out,
                 "Usage: train_mlp [--steps N] [--quick] [--seed S] [--schedule constant|cosine]\n"
                 "                 [--device cpu|cuda|cuda:N|auto] [--hidden H] [--layers L] [--batch B]\n"
                 "                 [--tf32] [--help]\n"
                 "\n"
                 "Trains the same MLP twice on a teacher-student regression task, with bnb8 AdamW keeping\n"
                 "8-bit optimizer states and with bnb8 AdamW keeping 32-bit states, and compares them: held-out\n"
                 "loss, state bytes, time per iteration and the optimizer's share of it.\n"
                 "\n"
                 "  --steps N     optimizer steps per run (default 3000)\n"
                 "  --quick       a short run of %lld steps, e.g. for CI (the last of --steps and --quick wins)\n"
                 "  --seed S      seed of the teacher, the initial weights and the data (default 42)\n"
                 "  --schedule constant|cosine\n"
                 "                learning rate: constant (default), or a linear warm-up over the first 5 %%\n"
                 "                of the steps then a cosine decay to 10 %% of the peak, set on both\n"
                 "                optimizers before every step with bnb_optimizer_set_hparam()\n"
                 "  --device cpu|cuda|cuda:N|auto\n"
                 "                where the model, its gradients and the optimizer states live: host memory\n"
                 "                with OpenBLAS GEMMs, or a GPU with cuBLAS GEMMs (cuda = cuda:0); auto\n"
                 "                (default) takes the GPU when one is usable, else the CPU\n"
                 "  --hidden H    width of the student's hidden layers (default 384)\n"
                 "  --layers L    number of hidden layers of the student (default 2)\n"
                 "  --batch B     minibatch rows per step (default 64)\n"
                 "  --tf32        cuBLAS GEMMs on TF32 tensor cores instead of fp32 (ignored on the CPU)\n"
                 "  --help        show this text\n"
                 "\n"
                 "Exit status: 0 when the acceptance checks pass, 1 when one fails or bnb8, BLAS or CUDA\n"
                 "reports an error, 2 on a command-line error, 77 when --device cuda finds no usable GPU.\n",
                 static_cast<long long>(kQuickSteps));
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const char* arg = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        bool takes_value = true;
        if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
            options.help = true;
            takes_value = false;
        } else if (std::strcmp(arg, "--quick") == 0) {
            options.steps = kQuickSteps;
            takes_value = false;
        } else if (std::strcmp(arg, "--tf32") == 0) {
            options.tf32 = true;
            takes_value = false;
        } else if (std::strcmp(arg, "--steps") == 0) {
            options.steps = static_cast<int64_t>(parse_number(arg, value, 1, kMaxSteps));
        } else if (std::strcmp(arg, "--seed") == 0) {
            options.seed = parse_number(arg, value, 0, UINT64_MAX);
        } else if (std::strcmp(arg, "--schedule") == 0) {
            if (value != nullptr && std::strcmp(value, "constant") == 0) {
                options.schedule = Schedule::kConstant;
            } else if (value != nullptr && std::strcmp(value, "cosine") == 0) {
                options.schedule = Schedule::kCosine;
            } else {
                throw UsageError(std::string("--schedule takes constant or cosine, got '") + (value ? value : "") +
                                 "'");
            }
        } else if (std::strcmp(arg, "--device") == 0) {
            parse_device(value, &options);
        } else if (std::strcmp(arg, "--hidden") == 0) {
            options.hidden = parse_int(arg, value, 1, kMaxWidth);
        } else if (std::strcmp(arg, "--layers") == 0) {
            options.layers = parse_int(arg, value, 1, kMaxLayers);
        } else if (std::strcmp(arg, "--batch") == 0) {
            options.batch = parse_int(arg, value, 1, kMaxWidth);
        } else {
            throw UsageError(std::string("unknown option ") + arg);
        }
        if (takes_value) ++i;
    }
    return options;
}

}  // namespace trainer
