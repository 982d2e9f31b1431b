// The element prologue shared by every algorithm and state mode (ALGORITHMS.md §5.3): non-finite
// gradients and skip_zeros keep the element; otherwise the gradient is scaled and the rule runs.
#pragma once

#include <cstdint>

#include "bnb_hd.hpp"
#include "convert.hpp"
#include "lane_ops.hpp"
#include "scalars.hpp"

namespace bnb {

enum class ElementResult : uint8_t {
    kApplied,         // p and the states hold the rule's new values
    kKeptNonFinite,   // the gradient was NaN or +-Inf: p and states keep their old values
    kKeptZero         // skip_zeros and the raw gradient was +-0: p and states keep their old values
};

BNB_HD bool is_finite_bits(float x) { return (float_to_bits(x) & 0x7F800000u) != 0x7F800000u; }

// The lanes the rule applies to: a finite raw gradient that, with skip_zeros, is not +-0. V: a lane type
// (lane_ops.hpp); for float the result is a bool.
template <class V>
BNB_HD auto applied_lanes(V raw_grad, bool skip_zeros) {
    const auto finite = is_finite_bits(raw_grad);
    return skip_zeros ? and_not(finite, raw_grad == V(0.0f)) : finite;
}

BNB_HD ElementResult prologue(float raw_grad, bool skip_zeros) {
    if (!is_finite_bits(raw_grad)) return ElementResult::kKeptNonFinite;
    if (!applied_lanes(raw_grad, skip_zeros)) return ElementResult::kKeptZero;
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

// The prologue and rule on every lane of V at once (the vectorized CPU paths; for float, one element):
// the rule runs on all lanes and each lane keeps its old p and states unless it is applied, which gives
// the element-wise result of step_element. Returns the applied mask.
template <class Rule, class V>
BNB_HD auto step_lanes(V& p, V raw_grad, V* s, const StepScalars& k, bool skip_zeros) {
    const auto applied = applied_lanes(raw_grad, skip_zeros);
    V p_new = p;
    V s_new[Rule::kSlots > 0 ? Rule::kSlots : 1];
    for (int j = 0; j < Rule::kSlots; ++j) s_new[j] = s[j];
    Rule::apply(p_new, k.gs * raw_grad, s_new, k);
    p = if_then_else(applied, p_new, p);
    for (int j = 0; j < Rule::kSlots; ++j) s[j] = if_then_else(applied, s_new[j], s[j]);
    return applied;
}

// The same for trust-ratio rules, as direction_element: u = 0 on lanes that are not applied.
template <class Rule, class V>
BNB_HD auto direction_lanes(V p, V raw_grad, V* s, V& u, const StepScalars& k, bool skip_zeros) {
    const auto applied = applied_lanes(raw_grad, skip_zeros);
    V s_new[Rule::kSlots];
    for (int j = 0; j < Rule::kSlots; ++j) s_new[j] = s[j];
    u = if_then_else(applied, Rule::direction(p, k.gs * raw_grad, s_new, k), V(0.0f));
    for (int j = 0; j < Rule::kSlots; ++j) s[j] = if_then_else(applied, s_new[j], s[j]);
    return applied;
}

}  // namespace bnb
