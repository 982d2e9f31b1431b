// Percentile clipping (ALGORITHMS.md §7.3) and the trust ratio (§7.2): the host-side arithmetic on
// norms the backends have reduced deterministically.
#pragma once

#include <cstdint>

namespace bnb {

constexpr int kClipHistory = 100;

// Records q = ||g||^2 of step t in the history (seeding all 100 entries at t = 1) and returns the
// gradient scale: clip / cur when the current norm exceeds the `percentile`-th smallest stored norm.
float update_clipping(float* history, int64_t t, float q, int percentile);

// min(1, max_unorm * ||p|| / ||u||), or 1 when max_unorm or ||u|| is 0 (double throughout).
double trust_ratio(double max_unorm, double p_sq_norm, double u_sq_norm);

}  // namespace bnb
