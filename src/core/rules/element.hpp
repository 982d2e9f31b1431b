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

BNB_HD ElementResult prologue(float raw_grad, bool skip_zeros) {
    if (!is_finite_bits(raw_grad)) return ElementResult::kKeptNonFinite;
    if (skip_zeros && raw_grad == 0.0f) return ElementResult::kKeptZero;
    return ElementResult::kApplied;
}

// Rules without a trust ratio: on kApplied, p and s[0..Rule::kSlots) are the new values; otherwise
// they are unchanged.
template <class Rule>
BNB_HD ElementResult step_element(float& p, float raw_grad, float* s, const StepScalars& k, bool skip_zeros) {
    const ElementResult result = prologue(raw_grad, skip_zeros);
    if (result == ElementResult::kApplied) Rule::apply(p, k.gs * raw_grad, s, k);
    return result;
}

// Trust-ratio rules (LAMB, LARS): on kApplied, s holds the new states and u the update direction; p is
// only read (the step p - lrs * u needs lrs, known after the norms). Otherwise u = 0 (kept elements
// contribute 0 to the update norm) and s is unchanged.
template <class Rule>
BNB_HD ElementResult direction_element(float p, float raw_grad, float* s, float& u, const StepScalars& k,
                                       bool skip_zeros) {
    const ElementResult result = prologue(raw_grad, skip_zeros);
    u = result == ElementResult::kApplied ? Rule::direction(p, k.gs * raw_grad, s, k) : 0.0f;
    return result;
}

}  // namespace bnb
