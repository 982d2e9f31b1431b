// RMSprop (torch.optim.RMSprop, non-centered, no momentum) and Adagrad (torch.optim.Adagrad),
// ALGORITHMS.md §6.4-6.5. State s[0]: the square average / sum of squares v, on the signed map as in
// bitsandbytes. The decayed and scaled gradient is also the numerator.
#pragma once

#include "bnb_hd.hpp"
#include "lane_ops.hpp"
#include "scalars.hpp"

namespace bnb {

struct RmspropRule {
    static constexpr int kSlots = 1;
    static constexpr bool kTrustRatio = false;

    template <class V>
    BNB_HD static void apply(V& p, V g, V* s, const StepScalars& k) {
        if (k.wd != 0.0f) g = g + k.wd * p;
        const V v = k.b1 * s[0] + k.nb1 * (g * g);  // b1 = alpha
        p = p - k.lr * (g / (sqrt_rn(v) + k.eps));
        s[0] = v;
    }
};

struct AdagradRule {
    static constexpr int kSlots = 1;
    static constexpr bool kTrustRatio = false;

    template <class V>
    BNB_HD static void apply(V& p, V g, V* s, const StepScalars& k) {
        if (k.wd != 0.0f) g = g + k.wd * p;
        const V v = s[0] + g * g;
        p = p - k.lr * (g / (sqrt_rn(v) + k.eps));
        s[0] = v;
    }
};

}  // namespace bnb
