// train_mlp.cpp -- the bnb8 training demo and end-to-end benchmark: 8-bit AdamW states against 32-bit
// AdamW states, on the CPU (OpenBLAS) or on a GPU (cuBLAS).
//
// What it shows
// -------------
// A multi-layer perceptron (MLP) is trained twice, side by side, from the same initial weights on the
// same minibatches:
//
//   - once with bnb8 AdamW whose optimizer states (momentum m, variance v) are stored as 8-bit
//     block-wise quantization (optim_bits = 8): one byte per state element plus one fp32 scale per
//     256 elements;
//   - once with bnb8 AdamW whose states are plain fp32 (optim_bits = 32).
//
// The task is teacher-student regression (task.hpp). Forward and backward passes are matrix products
// on a Backend (backend.hpp): OpenBLAS on the CPU, cuBLAS plus a few kernels on a GPU. The only thing
// bnb8 does is what an optimizer does in a training framework: after each backward pass, bnb_step() reads
// every gradient buffer and updates its parameter buffer in place, in host memory or on the GPU (on the
// backend's stream).
//
// The weight matrices have at least min_8bit_size (4096, the default) elements, so they get 8-bit
// states; the bias vectors are smaller and keep fp32 states, as in bitsandbytes. The demo prints the
// held-out loss of both runs as training proceeds, then the final losses, the optimizer state memory of
// each run, the time of one iteration (forward, backward and bnb_step()) and the optimizer's share of
// it, and finally two acceptance checks:
//
//   - the 8-bit run's final held-out loss is within 5 % (relative) of the 32-bit run's;
//   - the 8-bit states take at most 30 % of the bytes of the 32-bit states.
//
// Both checks are measured, never assumed. The loss gap in particular depends on how far training goes:
// longer runs (--steps) reach lower losses, where 8-bit states can fall behind 32-bit ones by more than
// 5 %; the demo then prints FAIL rather than hiding it. A given --seed gives the same output (timings
// aside) on every run of the same build on the same machine: the random numbers come from the demo's own
// generator and every reduction has a fixed order. OpenBLAS picks its kernels by CPU and splits products
// by its thread count (OPENBLAS_NUM_THREADS), so other machines or thread counts differ in the last digits.
// --help lists the options and the exit statuses.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "bnb8.h"
#include "errors.hpp"
#include "mlp.hpp"
#include "optimizer.hpp"
#include "options.hpp"
#include "task.hpp"

namespace trainer {
namespace {

constexpr double kLearningRate = 1e-3;  // AdamW; betas 0.9 / 0.999, eps 1e-8, weight decay 1e-2 are defaults
constexpr int64_t kTableRows = 20;      // the held-out loss is printed about this many times
constexpr int64_t kMaxWarmupSteps = 10;  // untimed first steps (state creation, cuBLAS heuristics)
constexpr double kMaxLossGap = 0.05;     // |loss8 - loss32| / loss32
constexpr double kMaxStateRatio = 0.30;  // state bytes 8-bit / state bytes 32-bit

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------------------------------------------
// The device
// ---------------------------------------------------------------------------------------------------

struct SelectedBackend {
    std::unique_ptr<Backend> backend;
    std::string note;  // why --device auto fell back to the CPU; empty otherwise
};

// A GPU needs both this program's CUDA backend and bnb8's.
std::unique_ptr<Backend> open_cuda(const Options& options) {
    int32_t count = 0;
    const bnb_status status = bnb_cuda_device_count(&count);
    if (status != BNB_OK) throw DeviceUnavailable(std::string("bnb8: ") + bnb_last_error_message());
    return make_cuda_backend(options.cuda_device, options.tf32);
}

SelectedBackend select_backend(const Options& options) {
    if (options.device == DeviceChoice::kCpu) return {make_cpu_backend(), ""};
    if (options.device == DeviceChoice::kCuda) return {open_cuda(options), ""};
    try {
        return {open_cuda(options), ""};
    } catch (const DeviceUnavailable& e) {
        return {make_cpu_backend(), std::string("--device auto: ") + e.what() + "; running on the CPU"};
    }
}

// ---------------------------------------------------------------------------------------------------
// One training run: a copy of the student, its bnb8 optimizer, its timing
// ---------------------------------------------------------------------------------------------------

// Time spent in the timed steps: forward + loss gradient + backward, and bnb_step().
struct Timing {
    double pass_seconds = 0.0;
    double step_seconds = 0.0;
    int64_t steps = 0;

    double iteration_ms() const { return per_step_ms(pass_seconds + step_seconds); }
    double step_ms() const { return per_step_ms(step_seconds); }
    double per_step_ms(double seconds) const { return steps > 0 ? 1e3 * seconds / static_cast<double>(steps) : 0.0; }
    double optimizer_share() const {
        const double total = pass_seconds + step_seconds;
        return total > 0.0 ? step_seconds / total : 0.0;
    }
};

// AdamW with the library's defaults (betas 0.9 / 0.999, eps 1e-8, weight decay 1e-2, block-wise 8-bit
// states, min_8bit_size 4096) except the learning rate, the stream and, between the runs, optim_bits.
bnb_optimizer_config adamw_config(int optim_bits, void* cuda_stream) {
    bnb_optimizer_config config;
    check(bnb_optimizer_config_init(&config, BNB_ALGO_ADAMW), "bnb_optimizer_config_init");
    config.optim_bits = optim_bits;
    config.lr = kLearningRate;
    config.cuda_stream = cuda_stream;
    return config;
}

class Run {
public:
    Run(std::string name, int optim_bits, Backend& backend, const HostWeights& initial, int batch_rows)
        : name_(std::move(name)), backend_(backend), net_(backend, initial, batch_rows),
          optimizer_(adamw_config(optim_bits, backend.stream())) {
        // Every weight and bias with its gradient buffer, in parameter group 0.
        for (Layer& layer : net_.layers()) {
            optimizer_.add_param(layer.w.data(), layer.grad_w.data(), static_cast<int64_t>(layer.w.size()),
                                 backend.bnb_device());
            optimizer_.add_param(layer.b.data(), layer.grad_b.data(), static_cast<int64_t>(layer.b.size()),
                                 backend.bnb_device());
        }
    }

    // Forward, loss gradient, backward, then the optimizer step. On a GPU the device is synchronized
    // before and after bnb_step(), so each part is timed whole.
    void train_step(const Dataset& batch, int64_t step, bool timed) {
        const double start = now_seconds();
        const float* out = net_.forward(batch.x.data(), batch.rows);
        const size_t count = static_cast<size_t>(batch.rows) * static_cast<size_t>(net_.outputs());
        backend_.mse_gradient(out, batch.y.data(), count, net_.output_gradient());
        net_.backward(batch.rows);
        backend_.synchronize();
        const double middle = now_seconds();
        try {
            optimizer_.step();
            backend_.synchronize();
        } catch (const Error& e) {
            throw Error(name_ + " run, step " + std::to_string(step) + ": " + e.what());
        }
        const double end = now_seconds();
        if (timed) {
            timing_.pass_seconds += middle - start;
            timing_.step_seconds += end - middle;
            timing_.steps += 1;
        }
    }

    Mlp& net() { return net_; }
    const Mlp& net() const { return net_; }
    Optimizer& optimizer() { return optimizer_; }
    const Optimizer& optimizer() const { return optimizer_; }
    const Timing& timing() const { return timing_; }

private:
    std::string name_;
    Backend& backend_;
    Mlp net_;  // declared before the optimizer, which keeps pointers to its buffers: destroyed after it
    Optimizer optimizer_;
    Timing timing_;
};

// ---------------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------------

// A one-line progress indicator on stderr, only when stderr is a terminal (not in logs or CI).
class Progress {
public:
    void update(int64_t step, int64_t total) {
        if (!enabled_) return;
        const int percent = static_cast<int>(100 * step / total);
        if (shown_ && percent == last_percent_) return;
        std::fprintf(stderr, "\r  training: %3d %% (step %lld of %lld)", percent, static_cast<long long>(step),
                     static_cast<long long>(total));
        std::fflush(stderr);
        shown_ = true;
        last_percent_ = percent;
    }
    // Erase the line before anything goes to stdout, which may be the same terminal.
    void clear() {
        if (!shown_) return;
        std::fprintf(stderr, "\r%70s\r", "");
        std::fflush(stderr);
        shown_ = false;
    }

private:
    bool enabled_ = isatty(STDERR_FILENO) != 0;
    bool shown_ = false;
    int last_percent_ = -1;
};

// (8-bit - 32-bit) / 32-bit: positive when the 8-bit run is worse.
double relative_gap(double loss8, double loss32) { return (loss8 - loss32) / loss32; }

bool is_8bit(const bnb_param_info& info) {
    return info.state_mode == BNB_STATE_MODE_8BIT_BLOCKWISE || info.state_mode == BNB_STATE_MODE_8BIT_TENSORWISE;
}

void print_header(const Options& options, const SelectedBackend& selected, Run& r8) {
    // The configuration the library actually uses, defaults resolved.
    const bnb_optimizer_config config = r8.optimizer().config();
    const Mlp& student = r8.net();
    std::printf("bnb8 %s -- training demo: AdamW with 8-bit vs 32-bit optimizer states\n", bnb_version_string());
    std::printf("  device     %s\n", selected.backend->description().c_str());
    if (!selected.note.empty()) std::printf("             (%s)\n", selected.note.c_str());
    std::printf("  task       teacher-student regression: teacher %d -> %d (tanh) -> %d, Gaussian inputs\n", kInputs,
                kTeacherHidden, kOutputs);
    std::printf("  student    %s: %lld parameters in %zu tensors\n", student.shape().c_str(),
                static_cast<long long>(student.parameter_count()), 2 * r8.net().layers().size());
    std::printf("  training   %lld steps, minibatch %d, mean squared error, seed %llu\n",
                static_cast<long long>(options.steps), options.batch, static_cast<unsigned long long>(options.seed));
    std::printf("  optimizer  AdamW lr %g%s, betas %g / %g, eps %g, weight decay %g\n", config.lr,
                options.schedule == Schedule::kCosine ? " (peak; 5 % warm-up, cosine decay to 10 %)" : " (constant)",
                config.beta1, config.beta2, config.eps, config.weight_decay);
    std::printf("  runs       8-bit: optim_bits 8, %s states, min_8bit_size %lld;  32-bit: optim_bits 32\n",
                config.block_wise ? "block-wise" : "tensor-wise", static_cast<long long>(config.min_8bit_size));
    std::printf("             same initial weights and minibatches; only the state precision differs\n");
    std::printf("\nheld-out loss (mean squared error over %d fixed samples)\n", kHeldoutRows);
    std::printf("  %7s   %12s   %12s   %10s\n", "step", "8-bit", "32-bit", "rel. diff");
}

void print_row(int64_t step, double loss8, double loss32) {
    std::printf("  %7lld   %12.6f   %12.6f   %+8.2f %%\n", static_cast<long long>(step), loss8, loss32,
                100.0 * relative_gap(loss8, loss32));
    std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------------
// Training side by side
// ---------------------------------------------------------------------------------------------------

struct Outcome {
    double initial_loss = 0.0;          // held-out loss of the common initial weights
    double loss8 = 0.0, loss32 = 0.0;   // held-out loss after the last step
    double seconds = 0.0;               // wall time of the training loop, evaluations included
    int64_t warmup_steps = 0;           // the first steps, not timed
};

// The learning rate of step `step` (1-based) of `steps`: constant, or a linear warm-up over the first 5 %
// of the steps followed by a cosine decay from kLearningRate to 10 % of it.
double scheduled_lr(Schedule schedule, int64_t step, int64_t steps) {
    if (schedule == Schedule::kConstant) return kLearningRate;
    const double warmup = 0.05 * static_cast<double>(steps);
    if (static_cast<double>(step) < warmup) return kLearningRate * static_cast<double>(step) / warmup;
    const double decay = (static_cast<double>(step) - warmup) / (static_cast<double>(steps) - warmup);
    return kLearningRate * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(3.14159265358979323846 * decay)));
}

// Both runs take each minibatch in turn; the held-out loss is printed about kTableRows times.
Outcome train_side_by_side(const Options& options, Backend& backend, Task& task, Run& r8, Run& r32) {
    const int64_t steps = options.steps;
    const int64_t eval_every = (steps + kTableRows - 1) / kTableRows;
    Outcome out;
    out.warmup_steps = std::min(kMaxWarmupSteps, steps / 10);
    out.initial_loss = task.evaluate(r8.net());  // both runs start from these weights
    out.loss8 = out.loss32 = out.initial_loss;
    print_row(0, out.loss8, out.loss32);

    Progress progress;
    const double start = now_seconds();
    for (int64_t step = 1; step <= steps; ++step) {
        task.next_batch();
        backend.synchronize();  // the minibatch is ready before either run's clock starts
        if (options.schedule != Schedule::kConstant) {  // a scheduler only sets the lr between steps
            const double lr = scheduled_lr(options.schedule, step, steps);
            r8.optimizer().set_lr(lr);
            r32.optimizer().set_lr(lr);
        }
        const bool timed = step > out.warmup_steps;
        r8.train_step(task.batch(), step, timed);
        r32.train_step(task.batch(), step, timed);
        if (step % eval_every == 0 || step == steps) {
            out.loss8 = task.evaluate(r8.net());
            out.loss32 = task.evaluate(r32.net());
            progress.clear();
            print_row(step, out.loss8, out.loss32);
        }
        progress.update(step, steps);
    }
    progress.clear();
    r8.optimizer().synchronize();  // reports an error of a step that ran asynchronously on a GPU
    r32.optimizer().synchronize();
    out.seconds = now_seconds() - start;
    return out;
}

// ---------------------------------------------------------------------------------------------------
// Results and acceptance checks
// ---------------------------------------------------------------------------------------------------

// Mean of sqrt(v_8bit / v_32bit) over the elements of the parameters that have 8-bit states (where the
// 32-bit v is positive): how the 8-bit run's second moment, which sets its effective step size
// lr / sqrt(v), compares with the 32-bit run's at the end.
double second_moment_ratio(const Optimizer& o8, const Optimizer& o32) {
    double sum = 0.0;
    int64_t used = 0;
    for (int64_t i = 0; i < o8.param_count(); ++i) {
        if (!is_8bit(o8.param_info(i))) continue;
        const std::vector<float> v8 = o8.state(i, BNB_STATE2);
        const std::vector<float> v32 = o32.state(i, BNB_STATE2);
        for (size_t k = 0; k < v8.size(); ++k) {
            if (v32[k] > 0.0f) {
                sum += std::sqrt(static_cast<double>(v8[k]) / static_cast<double>(v32[k]));
                ++used;
            }
        }
    }
    return used > 0 ? sum / static_cast<double>(used) : NAN;
}

void print_results(const Options& options, const Outcome& out, const Run& r8, const Run& r32, Backend& backend) {
    const Optimizer& o8 = r8.optimizer();
    const Optimizer& o32 = r32.optimizer();
    const int64_t bytes8 = o8.state_bytes(), bytes32 = o32.state_bytes();
    int64_t tensors8 = 0, elements8 = 0;
    for (int64_t i = 0; i < o8.param_count(); ++i) {
        const bnb_param_info info = o8.param_info(i);
        if (!is_8bit(info)) continue;
        tensors8 += 1;
        elements8 += info.numel;
    }
    const Timing& t8 = r8.timing();
    const Timing& t32 = r32.timing();
    const bool on_gpu = backend.bnb_device() != BNB_DEVICE_CPU;

    std::printf("\nresults after %lld step%s (%.1f s for both runs, evaluations included)\n",
                static_cast<long long>(options.steps), options.steps == 1 ? "" : "s", out.seconds);
    std::printf("  %-26s %14s %14s\n", "", "8-bit", "32-bit");
    std::printf("  %-26s %14.6f %14.6f   8-bit %+.2f %% relative to 32-bit\n", "final held-out loss", out.loss8,
                out.loss32, 100.0 * relative_gap(out.loss8, out.loss32));
    std::printf("  %-26s %13.1fx %13.1fx   from %.6f at step 0\n", "loss reduction", out.initial_loss / out.loss8,
                out.initial_loss / out.loss32, out.initial_loss);
    std::printf("  %-26s %14lld %14lld   8-bit = %.1f %% of 32-bit\n", "optimizer state bytes",
                static_cast<long long>(bytes8), static_cast<long long>(bytes32),
                100.0 * static_cast<double>(bytes8) / static_cast<double>(bytes32));
    std::printf("  %-26s %14.3f %14.3f   forward + backward + bnb_step(), mean of %lld steps\n",
                "iteration time (ms)", t8.iteration_ms(), t32.iteration_ms(), static_cast<long long>(t8.steps));
    std::printf("  %-26s %14.3f %14.3f   %s\n", "bnb_step() time (ms)", t8.step_ms(), t32.step_ms(),
                on_gpu ? "the device synchronized before and after it" : "host clock around it");
    std::printf("  %-26s %12.1f %% %12.1f %%   of the iteration time\n", "optimizer share",
                100.0 * t8.optimizer_share(), 100.0 * t32.optimizer_share());
    std::printf("  the first %lld steps (state creation, warm-up) are not timed\n",
                static_cast<long long>(out.warmup_steps));
    std::printf("  8-bit states hold %lld of %zu tensors (%lld elements); the rest are smaller than\n"
                "  min_8bit_size and keep fp32 states in both runs\n",
                static_cast<long long>(tensors8), 2 * r8.net().layers().size(), static_cast<long long>(elements8));
    if (tensors8 > 0) {
        std::printf("  second moment in those tensors: mean sqrt(v) of the 8-bit run / the 32-bit run = %.3f\n",
                    second_moment_ratio(o8, o32));
    }
}

// One PASS/FAIL line; returns whether it passed. A NaN fails, as every comparison with NaN is false.
bool report_check(bool passed, const std::string& text) {
    std::printf("%s  %s\n", passed ? "PASS" : "FAIL", text.c_str());
    return passed;
}

bool run_checks(const Outcome& out, const Run& r8, const Run& r32) {
    const double gap = relative_gap(out.loss8, out.loss32);
    const double ratio = static_cast<double>(r8.optimizer().state_bytes()) /
                         static_cast<double>(r32.optimizer().state_bytes());
    char text[160];
    std::printf("\n");
    std::snprintf(text, sizeof text, "8-bit final held-out loss within %.0f %% of 32-bit (%+.2f %%)",
                  100.0 * kMaxLossGap, 100.0 * gap);
    bool ok = report_check(std::fabs(gap) <= kMaxLossGap, text);
    std::snprintf(text, sizeof text, "8-bit optimizer state at most %.0f %% of the 32-bit bytes (%.1f %%)",
                  100.0 * kMaxStateRatio, 100.0 * ratio);
    ok = report_check(ratio <= kMaxStateRatio, text) && ok;
    return ok;
}

int run_program(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    if (options.help) {
        print_usage(stdout);
        return kExitPassed;
    }
    // Declared first, so the buffers and optimizers below are released before their backend.
    SelectedBackend selected = select_backend(options);
    Backend& backend = *selected.backend;

    Task task(backend, options.seed, options.batch);
    const HostWeights initial = student_weights(options.seed, options.hidden, options.layers);
    Run r8("8-bit", 8, backend, initial, options.batch);
    Run r32("32-bit", 32, backend, initial, options.batch);

    print_header(options, selected, r8);
    const Outcome out = train_side_by_side(options, backend, task, r8, r32);
    print_results(options, out, r8, r32, backend);
    return run_checks(out, r8, r32) ? kExitPassed : kExitFailed;
}

}  // namespace
}  // namespace trainer

int main(int argc, char** argv) {
    using namespace trainer;
    try {
        return run_program(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "train_mlp: %s\n\n", e.what());
        print_usage(stderr);
        return kExitUsage;
    } catch (const DeviceUnavailable& e) {
        std::fprintf(stderr, "train_mlp: the requested device is not usable: %s\n", e.what());
        return kExitDeviceMissing;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "train_mlp: out of host memory\n");
        return kExitFailed;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "train_mlp: %s\n", e.what());
        return kExitFailed;
    }
}
