// The element prologue and epilogue shared by every algorithm and state mode (ALGORITHMS.md §5.3, as
// amended by docs/extreme-values.md): an unusable gradient (NaN, +-Inf, or so large that g*g overflows)
// and skip_zeros keep the element; otherwise the gradient is scaled and the rule runs, and a lane whose
// rule results are not all finite is kept too. Kept non-finite lanes are counted.
#pragma once

#include <cstdint>

#include "bnb_hd.hpp"
#include "convert.hpp"
#include "lane_ops.hpp"
#include "scalars.hpp"

namespace bnb {

enum class ElementResult : uint8_t {
    kApplied,         // p and the states hold the rule's new values
    kKeptNonFinite,   // unusable gradient, or a rule result was not finite: p and states keep their old values
    kKeptZero         // skip_zeros and the raw gradient was +-0: p and states keep their old values
};

BNB_HD bool is_finite_bits(float x) { return (float_to_bits(x) & 0x7F800000u) != 0x7F800000u; }

// |x| < 2^64, tested on the magnitude bits: the largest float below 2^64 squares to 2^128 - 2^105 + 2^80,
// which rounds to a finite float, while 2^64 squared is 2^128, which overflows. So a gradient is usable
// exactly when g*g is finite; NaN and +-Inf have magnitude bits above the limit. An integer comparison
// gives the same answer on every path (no rounding mode or flush-to-zero can change it).
constexpr uint32_t kUsableMagnitudeLimitBits = 0x5F800000u;  // 2^64
BNB_HD bool is_usable_bits(float x) { return (float_to_bits(x) & 0x7FFFFFFFu) < kUsableMagnitudeLimitBits; }

// The lanes whose raw gradient lets the rule run: usable and, with skip_zeros, not +-0. V: a lane type
// (lane_ops.hpp); for float the result is a bool.
template <class V>
BNB_HD auto gradient_lanes(V raw_grad, bool skip_zeros) {
    const auto usable = is_usable_bits(raw_grad);
    return skip_zeros ? and_not(usable, raw_grad == V(0.0f)) : usable;
}

// Per lane: whether the rule's results were taken (applied), and whether the lane counts as kept
// non-finite (every lane that is not applied, except the zero gradients skip_zeros keeps).
template <class M>
struct LaneOutcome {
    M applied;
    M nonfinite;
};

template <class V, class M>
BNB_HD LaneOutcome<M> outcome_of(M applied, V raw_grad, bool skip_zeros) {
    const M kept = not_mask(applied);
    return LaneOutcome<M>{applied, skip_zeros ? and_not(kept, raw_grad == V(0.0f)) : kept};
}

// The rule's results on the lanes `gate` lets through, judged: a lane is applied when every new state
// and `result` (the new parameter, or a trust-ratio rule's direction) are finite.
template <int kSlots, class V, class M>
BNB_HD M finite_results(M gate, V result, const V* s_new) {
    M ok = both(gate, is_finite_bits(result));
    for (int j = 0; j < kSlots; ++j) ok = both(ok, is_finite_bits(s_new[j]));
    return ok;
}

// Rules without a trust ratio, on every lane of V at once (the vectorized CPU paths; for float, one
// element): the rule runs on all lanes into p_new and s_new[0..Rule::kSlots); returns the lanes that are
// applied (the gradient passes, and the new parameter and states are finite).
template <class Rule, class V>
BNB_HD auto rule_lanes(V p, V raw_grad, const V* s, V& p_new, V* s_new, const StepScalars& k, bool skip_zeros) {
    p_new = p;
    for (int j = 0; j < Rule::kSlots; ++j) s_new[j] = s[j];
    Rule::apply(p_new, k.gs * raw_grad, s_new, k);
    return finite_results<Rule::kSlots>(gradient_lanes(raw_grad, skip_zeros), p_new, s_new);
}

// rule_lanes, then each lane keeps its old p and states unless it is applied. On applied lanes p and
// s[0..Rule::kSlots) are the new values.
template <class Rule, class V>
BNB_HD auto step_lanes(V& p, V raw_grad, V* s, const StepScalars& k, bool skip_zeros) {
    V p_new;
    V s_new[Rule::kSlots > 0 ? Rule::kSlots : 1];
    const auto applied = rule_lanes<Rule>(p, raw_grad, s, p_new, s_new, k, skip_zeros);
    p = if_then_else(applied, p_new, p);
    for (int j = 0; j < Rule::kSlots; ++j) s[j] = if_then_else(applied, s_new[j], s[j]);
    return outcome_of(applied, raw_grad, skip_zeros);
}

// Trust-ratio rules (LAMB, LARS): on applied lanes s holds the new states and u the update direction;
// p (at step start) is only read, since the step p - lrs * u needs lrs, known after the norms. A lane
// is applied when its gradient passes, p is finite, and u and the new states are finite. Elsewhere u = 0
// (kept elements contribute 0 to the update norm) and s is unchanged. The pre-pass and the update pass
// call this with the same inputs, so both see the same lanes and values.
template <class Rule, class V>
BNB_HD auto direction_lanes(V p, V raw_grad, V* s, V& u, const StepScalars& k, bool skip_zeros) {
    V s_new[Rule::kSlots];
    for (int j = 0; j < Rule::kSlots; ++j) s_new[j] = s[j];
    const V u_new = Rule::direction(p, k.gs * raw_grad, s_new, k);
    const auto gate = both(gradient_lanes(raw_grad, skip_zeros), is_finite_bits(p));
    const auto applied = finite_results<Rule::kSlots>(gate, u_new, s_new);
    u = if_then_else(applied, u_new, V(0.0f));
    for (int j = 0; j < Rule::kSlots; ++j) s[j] = if_then_else(applied, s_new[j], s[j]);
    return outcome_of(applied, raw_grad, skip_zeros);
}

// The trust-ratio step of an applied lane: p_new = p - lrs * u (with LAMB's decay). Returns the lanes
// whose parameter is written: applied and p_new finite. An applied lane whose p_new is not finite (only
// when |p| is near FLT_MAX or the decay factor is huge) keeps its parameter and counts as non-finite,
// while its states advance: they were fixed in the pre-pass, before lrs was known.
template <class Rule, class V, class M>
BNB_HD M trust_step_lanes(V p, V u, M applied, const StepScalars& k, V& p_new) {
    p_new = Rule::apply_direction(p, u, k);
    return both(applied, is_finite_bits(p_new));
}

BNB_HD ElementResult element_result(const LaneOutcome<bool>& r) {
    return r.applied ? ElementResult::kApplied : r.nonfinite ? ElementResult::kKeptNonFinite : ElementResult::kKeptZero;
}

// One element (CUDA, the scalar drivers): the lane functions on float.
template <class Rule>
BNB_HD ElementResult step_element(float& p, float raw_grad, float* s, const StepScalars& k, bool skip_zeros) {
    return element_result(step_lanes<Rule>(p, raw_grad, s, k, skip_zeros));
}

template <class Rule>
BNB_HD ElementResult direction_element(float p, float raw_grad, float* s, float& u, const StepScalars& k,
                                       bool skip_zeros) {
    return element_result(direction_lanes<Rule>(p, raw_grad, s, u, k, skip_zeros));
}

}  // namespace bnb
