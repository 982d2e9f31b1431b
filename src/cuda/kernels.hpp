// Host-callable launchers of the CUDA kernels (defined in the .cu files). No CUDA types: streams are
// void* (a cudaStream_t). Each returns the launch's error as a Status; errors inside a kernel surface
// at the next synchronization (DeviceSteps::settle).
#pragma once

#include <cstdint>

#include "bnb8.h"
#include "core/status.hpp"
#include "device_types.hpp"
#include "launch_plan.hpp"

namespace bnb {
namespace cuda {

struct Launch {
    void* stream;       // cudaStream_t
    int32_t sm_count;   // multiprocessors of the device: grids are a few blocks per SM
};

// The step kernel of one (rule, dtype) group: the pre-pass or the update over all its blocks.
Status launch_step(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch);

// One translation unit per algorithm family (compile time), behind launch_step.
Status launch_step_adam(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch);
Status launch_step_sgd(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch);
Status launch_step_lion(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch);
Status launch_step_trust_ratio(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase,
                               const Launch& launch);
Status launch_step_rmsprop(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch);
Status launch_step_ademamix(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch);

// skip_step_on_nonfinite: counts the non-finite gradient elements of the group's parameters that take
// the step into report->counted_nonfinite. Runs before the gate.
Status launch_count_nonfinite(bnb_dtype dtype, const GroupArgs& args, const Launch& launch);

// Percentile clipping: the level-0 partials of g*g of every block of the clipped tensors (partials[0]).
Status launch_gradient_partials(bnb_dtype dtype, const GroupArgs& args, const Launch& launch);

// Levels >= 1 of §7.1 over partials[0..arrays) of the selected tensors (clipping: those with percentile
// clipping; otherwise those with trust-ratio norms): status.norm[first_norm + i] receives R of array i.
Status launch_reduce(const GroupArgs& args, int arrays, bool clipping, int first_norm, const Launch& launch);

// A per-tensor pass (one thread per tensor).
Status launch_tensor_pass(const GroupArgs& args, TensorOp op, const Launch& launch);

struct GateArgs {
    const StepParam* step;          // by parameter index
    ParamStatus* status;
    const StepScalars* candidates;
    int64_t slots;                  // entries of step and status
    const float* found_inf;         // AMP flag, or nullptr
    int32_t skip_nonfinite;         // skip_step_on_nonfinite
    int32_t reserved;
    int64_t host_nonfinite;         // the CPU parameters' count
    int64_t participants;           // parameters taking the step
    DeviceStepReport* report;
};

// The step's decision (skip or not) and, per parameter taking it, its counter and scalars.
Status launch_gate(const GateArgs& args, const Launch& launch);

}  // namespace cuda
}  // namespace bnb
