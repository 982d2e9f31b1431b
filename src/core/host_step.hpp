// One CPU parameter's step as core plans it and a host backend runs it (backend.hpp): the buffers,
// dtype, state mode and state rows of the parameter, which rule updates it, and what the update reports
// back. Plain data: core fills it from a ParamEntry, the backend only reads it (src/cpu/ names these
// types in cpu:: through param_view.hpp).
#pragma once

#include <cstdint>

#include "bnb8.h"
#include "rules/quant.hpp"
#include "rules/scalars.hpp"

namespace bnb {

struct AlgorithmTraits;

constexpr int kMaxSlots = 3;  // fp32 state values per element, over all states (AdEMAMix: m1, m2, nu)

// One quantized state row: n codes and its absmax (one per block, or one per tensor).
struct QuantRow {
    uint8_t* codes;
    float* absmax;
    QuantTables tables;
};

struct ParamStepView {
    void* param;
    const void* grad;
    int64_t numel;
    bnb_dtype dtype;
    bnb_state_mode mode;
    float* values[kMaxSlots];  // 32-bit mode: one row of numel floats per slot
    QuantRow rows[kMaxSlots];  // 8-bit modes: one row per slot
    bool skip_zeros;
    double lr;                 // trust-ratio rules: lrs = fl32(lr * scale)
    double max_unorm;          // trust-ratio rules: the cap; 0 = no trust ratio
};

struct StepOutcome {
    int64_t nonfinite = 0;        // non-finite gradient elements kept
    double trust_ratio = 1.0;     // the scale applied to lr (trust-ratio rules)
    double update_sq_norm = 0.0;  // R(u * u) over applied elements (trust-ratio rules with a cap)
};

// Which rule a parameter uses: the algorithm plus the switches that select a rule variant.
struct RuleChoice {
    const AlgorithmTraits* algorithm;
    bool nesterov;  // SGD
    bool stateful;  // SGD: momentum > 0 at the parameter's first step
};

// Everything a host backend needs to update one parameter at step t: the view of its buffers, the rule
// and the scalars of t (ALGORITHMS.md §5.1 step 3).
struct HostParamStep {
    RuleChoice rule;
    ParamStepView view;
    StepScalars scalars;
};

}  // namespace bnb
