// What the CPU drivers need to step one parameter: its buffers, dtype, state mode and state rows, and
// what they report back. The types are core's (core/host_step.hpp, the plan a host backend runs); the
// CPU code names them here.
#pragma once

#include "core/host_step.hpp"

namespace bnb {
namespace cpu {

using bnb::kMaxSlots;
using bnb::ParamStepView;
using bnb::QuantRow;
using bnb::RuleChoice;
using bnb::StepOutcome;

}  // namespace cpu
}  // namespace bnb
