// The deterministic reduction R of ALGORITHMS.md §7.1, used by every norm (trust ratio, percentile
// clipping): each 256-element block is reduced by a fixed pairwise tree in fp32 (lanes past the
// tensor's end hold 0), the block partials are converted to double and reduced by the same tree in
// runs of 256, level after level. The tree does not depend on threads, launch shape or backend.
#pragma once

#include "bnb_hd.hpp"

namespace bnb {

constexpr int kReduceWidth = 256;

// x_j <- x_j + x_{j+s} for s = 128, 64, ..., 1 and every j < s; returns x_0. Overwrites `lanes`.
template <class Real>
BNB_HD Real tree_sum(Real* lanes) {
    for (int stride = kReduceWidth / 2; stride >= 1; stride >>= 1) {
        for (int j = 0; j < stride; ++j) lanes[j] = lanes[j] + lanes[j + stride];
    }
    return lanes[0];
}

}  // namespace bnb
