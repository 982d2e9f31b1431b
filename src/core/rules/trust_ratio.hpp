// LAMB and LARS (ALGORITHMS.md §6.7-6.8, §7.2): a direction u from the states, then p - lrs * u where
// lrs = fl32(lr * scale) and the scale caps the update norm relative to the parameter norm. The drivers
// call direction() in the pre-pass (for the norms) and in the update pass, then apply_direction().
#pragma once

#include <cmath>

#include "bnb_hd.hpp"
#include "scalars.hpp"

namespace bnb {

// LAMB: Adam's bias-corrected direction; decoupled decay, applied with the step and outside the norms.
// States: s[0] = m (signed map), s[1] = v (unsigned map).
struct LambRule {
    static constexpr int kSlots = 2;
    static constexpr bool kTrustRatio = true;

    BNB_HD static float direction(float, float g, float* s, const StepScalars& k) {
        const float m = k.b1 * s[0] + k.nb1 * g;
        const float v = k.b2 * s[1] + k.nb2 * (g * g);
        s[0] = m;
        s[1] = v;
        return (m * k.ic1) / (sqrtf(v) * k.ic2 + k.eps);
    }

    BNB_HD static float apply_direction(float p, float u, const StepScalars& k) {
        if (k.wd != 0.0f) p = p * k.dec;
        return p - k.lrs * u;
    }
};

// LARS: momentum SGD with coupled decay; the direction is the new buffer s[0] (signed map).
struct LarsRule {
    static constexpr int kSlots = 1;
    static constexpr bool kTrustRatio = true;

    BNB_HD static float direction(float p, float g, float* s, const StepScalars& k) {
        if (k.wd != 0.0f) g = g + k.wd * p;
        const float buf = (k.t == 1) ? g : k.b1 * s[0] + g;
        s[0] = buf;
        return buf;
    }

    BNB_HD static float apply_direction(float p, float u, const StepScalars& k) { return p - k.lrs * u; }
};

}  // namespace bnb
