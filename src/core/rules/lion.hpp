// Lion (lion-pytorch), ALGORITHMS.md §6.6: decoupled decay first, the sign of an interpolation steps
// the parameter, then the momentum s[0] (signed map) is updated. No eps.
#pragma once

#include "bnb_hd.hpp"
#include "scalars.hpp"

namespace bnb {

// +1 for c > 0, -1 for c < 0, +0 for +-0 and NaN.
BNB_HD float lion_sign(float c) { return c > 0.0f ? 1.0f : (c < 0.0f ? -1.0f : 0.0f); }

struct LionRule {
    static constexpr int kSlots = 1;
    static constexpr bool kTrustRatio = false;

    BNB_HD static void apply(float& p, float g, float* s, const StepScalars& k) {
        if (k.wd != 0.0f) p = p * k.dec;
        const float c = k.b1 * s[0] + k.nb1 * g;
        p = p - k.lr * lion_sign(c);  // lr * sign is exact
        s[0] = k.b2 * s[0] + k.nb2 * g;
    }
};

}  // namespace bnb
