// AdEMAMix (bitsandbytes' reference order), ALGORITHMS.md §6.9. States: s[0] = m1 and s[1] = m2 (the
// two rows of state1, signed map), s[2] = nu (state2, unsigned map). alpha_t and beta3_t come from the
// host-side schedulers (StepScalars::at, b3t, nb3t).
#pragma once

#include "bnb_hd.hpp"
#include "lane_ops.hpp"
#include "scalars.hpp"

namespace bnb {

struct AdemamixRule {
    static constexpr int kSlots = 3;
    static constexpr bool kTrustRatio = false;

    template <class V>
    BNB_HD static void apply(V& p, V g, V* s, const StepScalars& k) {
        const V m1 = k.b1 * s[0] + k.nb1 * g;
        const V m2 = k.b3t * s[1] + k.nb3t * g;
        const V nu = k.b2 * s[2] + k.nb2 * (g * g);
        V u = (m1 * k.ic1 + k.at * m2) / (sqrt_rn(nu) * k.ic2 + k.eps);
        if (k.wd != 0.0f) u = u + k.wd * p;
        p = p - k.lr * u;
        s[0] = m1;
        s[1] = m2;
        s[2] = nu;
    }
};

}  // namespace bnb
