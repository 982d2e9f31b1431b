// SGD (torch.optim.SGD), ALGORITHMS.md §6.3. With momentum b1 > 0 the state is the momentum buffer
// s[0] (signed map); it starts as g at the parameter's first step. Without momentum there is no state.
#pragma once

#include "bnb_hd.hpp"
#include "lane_ops.hpp"
#include "scalars.hpp"

namespace bnb {

template <bool kNesterov>
struct SgdMomentumRule {
    static constexpr int kSlots = 1;
    static constexpr bool kTrustRatio = false;

    template <class V>
    BNB_HD static void apply(V& p, V g, V* s, const StepScalars& k) {
        if (k.wd != 0.0f) g = g + k.wd * p;
        const V buf = (k.t == 1) ? g : k.b1 * s[0] + k.omd * g;  // omd = 1 without dampening: exact
        const V d = kNesterov ? g + k.b1 * buf : buf;
        p = p - k.lr * d;
        s[0] = buf;
    }
};

struct SgdPlainRule {
    static constexpr int kSlots = 0;
    static constexpr bool kTrustRatio = false;

    template <class V>
    BNB_HD static void apply(V& p, V g, V*, const StepScalars& k) {
        if (k.wd != 0.0f) g = g + k.wd * p;
        p = p - k.lr * g;
    }
};

}  // namespace bnb
