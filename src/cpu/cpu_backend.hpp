// The CPU backend: the gradient passes and the update of parameters whose arguments the optimizer has
// already validated. Steps run the kernels of cpu::active_isa() (isa.hpp) on a pool of threads (Note
// [CPU threads]); neither choice changes a bit of the result.
#pragma once

#include <cstddef>
#include <cstdint>

#include "algorithm.hpp"
#include "kernel_table.hpp"
#include "param_view.hpp"
#include "rules/scalars.hpp"

namespace bnb {
namespace cpu {

// One parameter's update: the caller fills rule, view and scalars (a core HostParamStep); step_params()
// writes outcome and uses the rest as its working space (so a step allocates nothing once its ParamSteps
// exist).
struct ParamStep {
    RuleChoice rule;
    ParamStepView view;
    StepScalars scalars;
    StepOutcome outcome;

    PassArgs args;
    PassKernels kernels;
    int64_t blocks;
    bool pre_pass;
};

// Updates every parameter of steps[0, count) and its states in place, their 256-element blocks spread
// over `num_threads` threads (bnb_optimizer_config.num_threads; 0 = automatic, resolve_thread_count()).
// Allocates nothing and cannot fail.
void step_params(ParamStep* steps, size_t count, int32_t num_threads);

// One parameter on the calling thread.
StepOutcome step_param(const RuleChoice& rule, const ParamStepView& view, const StepScalars& scalars);

// NaN and +-Inf elements of a gradient.
int64_t count_nonfinite(const void* grad, bnb_dtype dtype, int64_t numel);

// fl32(R(g_i * g_i)) over the raw gradient, non-finite elements contributing 0 (ALGORITHMS.md §7.3).
float gradient_sq_norm(const void* grad, bnb_dtype dtype, int64_t numel);

}  // namespace cpu
}  // namespace bnb
