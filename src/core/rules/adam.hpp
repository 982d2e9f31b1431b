// Adam (torch.optim.Adam, coupled L2 decay) and AdamW (torch.optim.AdamW, decoupled decay applied
// first), ALGORITHMS.md §6.1-6.2. States: s[0] = m (signed map), s[1] = v (unsigned map).
// Every operation is one IEEE binary32 operation in the written order; no contraction. V: a lane type
// (lane_ops.hpp), float for a single element.
#pragma once

#include "bnb_hd.hpp"
#include "lane_ops.hpp"
#include "scalars.hpp"

namespace bnb {

template <bool kDecoupledDecay>
struct AdamRule {
    static constexpr int kSlots = 2;
    static constexpr bool kTrustRatio = false;

    template <class V>
    BNB_HD static void apply(V& p, V g, V* s, const StepScalars& k) {
        if (kDecoupledDecay) {
            if (k.wd != 0.0f) p = p * k.dec;
        } else {
            if (k.wd != 0.0f) g = g + k.wd * p;
        }
        const V m = k.b1 * s[0] + k.nb1 * g;
        const V v = k.b2 * s[1] + k.nb2 * (g * g);
        p = p - k.ss * (m / (sqrt_rn(v) * k.ic2 + k.eps));
        s[0] = m;
        s[1] = v;
    }
};

using AdamL2Rule = AdamRule<false>;
using AdamWRule = AdamRule<true>;

}  // namespace bnb
