// The element prologue shared by every algorithm and state mode (ALGORITHMS.md §5.3): non-finite
// gradients and skip_zeros keep the element; otherwise the gradient is scaled and the rule runs.
#pragma once

#include <cstdint>

#include "bnb_hd.hpp"
#include "convert.hpp"
#include "scalars.hpp"

namespace bnb {

enum class ElementResult : uint8_t {
    kApplied,         // p and the states hold the rule's new values
    kKeptNonFinite,   // the gradient was NaN or +-Inf: p and states keep their old values
    kKeptZero         // skip_zeros and the raw gradient was +-0: p and states keep their old values
};

BNB_HD bool is_finite_bits(float x) { return (float_to_bits(x) & 0x7F800000u) != 0x7F800000u; }

// On kApplied, p and s[0..Rule::kSlots) are the new values; otherwise they are unchanged.
template <class Rule>
BNB_HD ElementResult step_element(float& p, float raw_grad, float* s, const StepScalars& k,
                                  bool skip_zeros) {
    if (!is_finite_bits(raw_grad)) return ElementResult::kKeptNonFinite;
    if (skip_zeros && raw_grad == 0.0f) return ElementResult::kKeptZero;
    Rule::apply(p, k.gs * raw_grad, s, k);
    return ElementResult::kApplied;
}

}  // namespace bnb
