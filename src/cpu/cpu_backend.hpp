// The CPU backend: steps one parameter whose arguments the optimizer has already validated.
#pragma once

#include <cstdint>

#include "algorithm.hpp"
#include "param_view.hpp"
#include "rules/scalars.hpp"

namespace bnb {
namespace cpu {

// Updates the parameter and its states in place; returns the number of non-finite gradient elements.
int64_t step_param(const AlgorithmTraits& algorithm, const ParamStepView& view, const StepScalars& scalars);

}  // namespace cpu
}  // namespace bnb
