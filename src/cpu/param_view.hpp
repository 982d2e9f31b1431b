// What the CPU drivers need to step one parameter: its buffers, dtype, state mode and state rows.
#pragma once

#include <cstdint>

#include "algorithm.hpp"
#include "bnb8.h"
#include "rules/quant.hpp"

namespace bnb {
namespace cpu {

constexpr int kMaxSlots = 2;  // fp32 state values per element, over all states (AdamW: m, v)

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
};

}  // namespace cpu
}  // namespace bnb
