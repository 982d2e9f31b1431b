// The CPU backend: the gradient passes and the update of one parameter whose arguments the optimizer
// has already validated.
#pragma once

#include <cstdint>

#include "algorithm.hpp"
#include "param_view.hpp"
#include "rules/scalars.hpp"

namespace bnb {
namespace cpu {

// Which rule a parameter uses: the algorithm plus the switches that select a rule variant.
struct RuleChoice {
    const AlgorithmTraits* algorithm;
    bool nesterov;  // SGD
    bool stateful;  // SGD: momentum > 0 at the parameter's first step
};

// Updates the parameter and its states in place.
StepOutcome step_param(const RuleChoice& rule, const ParamStepView& view, const StepScalars& scalars);

// NaN and +-Inf elements of a gradient.
int64_t count_nonfinite(const void* grad, bnb_dtype dtype, int64_t numel);

// fl32(R(g_i * g_i)) over the raw gradient, non-finite elements contributing 0 (ALGORITHMS.md §7.3).
float gradient_sq_norm(const void* grad, bnb_dtype dtype, int64_t numel);

}  // namespace cpu
}  // namespace bnb
