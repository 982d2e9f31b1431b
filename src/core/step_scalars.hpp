// Host computation of the per-step scalars (ALGORITHMS.md §5.2): double arithmetic from the double
// hyper-parameters, one rounding to fp32 per scalar.
#pragma once

#include <cstdint>

#include "algorithm.hpp"
#include "rules/scalars.hpp"

namespace bnb {

// `t` is the parameter's step counter for this step (>= 1); `gs` the gradient scale (1 without clipping).
StepScalars compute_step_scalars(const Hparams& hparams, int64_t t, float gs);

}  // namespace bnb
