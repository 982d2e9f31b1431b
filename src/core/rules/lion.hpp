// Lion (lion-pytorch), ALGORITHMS.md §6.6: decoupled decay first, the sign of an interpolation steps
// the parameter, then the momentum s[0] (signed map) is updated. No eps.
#pragma once

#include "bnb_hd.hpp"
#include "lane_ops.hpp"
#include "scalars.hpp"

namespace bnb {

// +1 for c > 0, -1 for c < 0, +0 for +-0 and NaN.
template <class V>
BNB_HD V lion_sign(V c) {
    return if_then_else(c > V(0.0f), V(1.0f), if_then_else(c < V(0.0f), V(-1.0f), V(0.0f)));
}

struct LionRule {
    static constexpr int kSlots = 1;
    static constexpr bool kTrustRatio = false;

    template <class V>
    BNB_HD static void apply(V& p, V g, V* s, const StepScalars& k) {
        if (k.wd != 0.0f) p = p * k.dec;
        const V c = k.b1 * s[0] + k.nb1 * g;
        p = p - k.lr * lion_sign(c);  // lr * sign is exact
        s[0] = k.b2 * s[0] + k.nb2 * g;
    }
};

}  // namespace bnb
