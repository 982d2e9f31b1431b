// Percentile clipping (ALGORITHMS.md §7.3) and the trust ratio (§7.2): the host-side entry points to the
// arithmetic on norms the backends have reduced deterministically. The math itself is in
// rules/norm_scales.hpp, shared with the CUDA backend.
#pragma once

#include <cstdint>

#include "rules/norm_scales.hpp"

namespace bnb {

// Records q = ||g||^2 of step t in the history (seeding all 100 entries at t = 1) and returns the
// gradient scale: clip / cur when the current norm exceeds the `percentile`-th smallest stored norm.
float update_clipping(float* history, int64_t t, float q, int percentile);

// min(1, max_unorm * ||p|| / ||u||), or 1 when max_unorm or ||u|| is 0 (double throughout).
double trust_ratio(double max_unorm, double p_sq_norm, double u_sq_norm);

}  // namespace bnb
