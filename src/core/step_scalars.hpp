// Host computation of the per-step scalars (ALGORITHMS.md §5.2): double arithmetic from the double
// hyper-parameters, one rounding to fp32 per scalar. pow, exp and log live here, never in the rules.
#pragma once

#include <cstdint>

#include "algorithm.hpp"
#include "rules/scalars.hpp"

namespace bnb {

// `t` is the parameter's step counter for this step (>= 1); `gs` the gradient scale (1 without
// clipping). lrs starts equal to lr; the trust ratio replaces it.
StepScalars compute_step_scalars(const AlgorithmTraits& algorithm, const Hparams& hparams, int64_t t, float gs);

}  // namespace bnb
