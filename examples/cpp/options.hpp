// options.hpp -- train_mlp's command line.
#pragma once

#include <cstdint>
#include <cstdio>

namespace trainer {

enum class DeviceChoice { kAuto, kCpu, kCuda };
enum class Schedule { kConstant, kCosine };

struct Options {
    int64_t steps = 3000;
    uint64_t seed = 42;
    Schedule schedule = Schedule::kConstant;
    DeviceChoice device = DeviceChoice::kAuto;
    int cuda_device = 0;  // the ordinal of --device cuda:N
    int hidden = 384;     // width of the student's hidden layers
    int layers = 2;       // number of hidden layers of the student
    int batch = 64;       // minibatch rows per optimizer step
    bool tf32 = false;    // cuBLAS GEMMs on TF32 tensor cores
    bool help = false;    // --help was given: print the usage and stop
};

// Throws UsageError on anything it does not understand.
Options parse_options(int argc, char** argv);
void print_usage(std::FILE* out);

}  // namespace trainer
