// The deterministic tree of ALGORITHMS.md §7.1 over one block's 256 fp32 lanes, in the layout the warp
// kernels hold a block in: lane L of the warp holds elements lane_element(L, j), j = 0..7, that is
// 4L..4L+3 and 128+4L..128+4L+3. The spec's levels then map onto the warp as
//   s = 128        x_e + x_{e+128}: both in the same thread (tree_fold_halves);
//   s = 64 ... 4   x_e + x_{e+s}: element e + s sits s/4 lanes up, a shuffle down by
//                  tree_shuffle_distance(k) = 16, 8, 4, 2, 1;
//   s = 2, 1       inside lane 0 (tree_finish).
// Every addition is the spec's, operand for operand, so the result is the spec's bit for bit. The host
// tests replay this schedule over 32 emulated lanes against tree_sum().
#pragma once

#include "core/rules/bnb_hd.hpp"

namespace bnb {
namespace cuda {

constexpr int kTreeShuffleSteps = 5;

BNB_HD int lane_element(int lane, int j) { return (j >> 2) * 128 + lane * 4 + (j & 3); }

BNB_HD int tree_shuffle_distance(int step) { return 16 >> step; }

BNB_HD void tree_fold_halves(const float (&x)[8], float (&y)[4]) {
    for (int i = 0; i < 4; ++i) y[i] = x[i] + x[4 + i];
}

BNB_HD float tree_finish(const float (&y)[4]) {
    const float a = y[0] + y[2];  // s = 2
    const float b = y[1] + y[3];
    return a + b;                 // s = 1
}

}  // namespace cuda
}  // namespace bnb
