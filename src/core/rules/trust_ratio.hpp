// LAMB and LARS (ALGORITHMS.md §6.7-6.8, §7.2): a direction u from the states, then p - lrs * u where
// lrs = fl32(lr * scale) and the scale caps the update norm relative to the parameter norm. The drivers
// call direction() in the pre-pass (for the norms) and in the update pass, then apply_direction().
#pragma once

#include "bnb_hd.hpp"
#include "lane_ops.hpp"
#include "scalars.hpp"

namespace bnb {

// LAMB: Adam's bias-corrected direction; decoupled decay, applied with the step and outside the norms.
// States: s[0] = m (signed map), s[1] = v (unsigned map).
struct LambRule {
    static constexpr int kSlots = 2;
    static constexpr bool kTrustRatio = true;

    template <class V>
    BNB_HD static V direction(V, V g, V* s, const StepScalars& k) {
        const V m = k.b1 * s[0] + k.nb1 * g;
        const V v = k.b2 * s[1] + k.nb2 * (g * g);
        s[0] = m;
        s[1] = v;
        return (m * k.ic1) / (sqrt_rn(v) * k.ic2 + k.eps);
    }

    template <class V>
    BNB_HD static V apply_direction(V p, V u, const StepScalars& k) {
        if (k.wd != 0.0f) p = p * k.dec;
        return p - k.lrs * u;
    }
};

// LARS: momentum SGD with coupled decay; the direction is the new buffer s[0] (signed map).
struct LarsRule {
    static constexpr int kSlots = 1;
    static constexpr bool kTrustRatio = true;

    template <class V>
    BNB_HD static V direction(V p, V g, V* s, const StepScalars& k) {
        if (k.wd != 0.0f) g = g + k.wd * p;
        const V buf = (k.t == 1) ? g : k.b1 * s[0] + g;
        s[0] = buf;
        return buf;
    }

    template <class V>
    BNB_HD static V apply_direction(V p, V u, const StepScalars& k) {
        return p - k.lrs * u;
    }
};

}  // namespace bnb
