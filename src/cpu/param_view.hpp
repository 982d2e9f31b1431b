// What the CPU drivers need to step one parameter: its buffers, dtype, state mode and state rows, and
// what they report back.
#pragma once

#include <cstdint>

#include "bnb8.h"
#include "rules/quant.hpp"

namespace bnb {
namespace cpu {

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

}  // namespace cpu
}  // namespace bnb
