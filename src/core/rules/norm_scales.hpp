// The scales derived from reduced norms (ALGORITHMS.md §7.2-7.3): percentile clipping's gradient scale and
// the trust ratio. Both backends call these (the CPU on the host, CUDA in a per-tensor kernel), so the
// history update, the sort and the double arithmetic exist once. Only + - * / sqrt and comparisons: IEEE
// double gives the same bits on both (§1.3).
#pragma once

#include <cmath>
#include <cstdint>

#include "bnb_hd.hpp"

namespace bnb {

constexpr int kClipHistory = 100;

// Ascending insertion sort of a copy of the history; returns its `percentile`-th (0-based) entry. A sort
// written here (not std::sort) gives the device the same order for any input, -0.0 and NaN included.
BNB_HD float history_percentile(const float* history, int percentile) {
    float sorted[kClipHistory];
    for (int i = 0; i < kClipHistory; ++i) sorted[i] = history[i];
    for (int j = 1; j < kClipHistory; ++j) {
        const float key = sorted[j];
        int m = j - 1;
        while (m >= 0 && sorted[m] > key) {
            sorted[m + 1] = sorted[m];
            --m;
        }
        sorted[m + 1] = key;
    }
    return sorted[percentile];
}

// Records q = ||g||^2 of step t in the history (seeding all 100 entries at t = 1) and returns the
// gradient scale: clip / cur when the current norm exceeds the `percentile`-th smallest stored norm.
BNB_HD float clipping_scale(float* history, int64_t t, float q, int percentile) {
    const int slot = static_cast<int>(t % kClipHistory);
    if (t == 1) {
        for (int i = 0; i < kClipHistory; ++i) history[i] = q;
    } else {
        history[slot] = q;
    }
    const double current = sqrt(static_cast<double>(history[slot]));
    const double clip = sqrt(static_cast<double>(history_percentile(history, percentile)));
    return current > clip ? static_cast<float>(clip / current) : 1.0f;
}

// min(1, max_unorm * ||p|| / ||u||), or 1 when max_unorm or ||u|| is 0 (double throughout). The min is
// written as std::min(1.0, x) evaluates it, so a NaN ratio gives 1 on both backends.
BNB_HD double trust_ratio_scale(double max_unorm, double p_sq_norm, double u_sq_norm) {
    const double p_norm = sqrt(p_sq_norm);
    const double u_norm = sqrt(u_sq_norm);
    if (max_unorm == 0.0 || u_norm == 0.0) return 1.0;
    const double ratio = max_unorm * p_norm / u_norm;
    return ratio < 1.0 ? ratio : 1.0;
}

}  // namespace bnb
