// What the host uploads for each step of the CUDA parameters (host logic, tested without a GPU): per
// parameter a StepParam, and the candidate rows of per-step scalars of Note [step candidates].
#pragma once

#include <cstdint>
#include <vector>

#include "core/algorithm.hpp"
#include "core/rules/scalars.hpp"
#include "device_types.hpp"
#include "step_counters.hpp"

namespace bnb {

struct DeviceParam;  // core/backend.hpp

namespace cuda {

struct StepInputs {
    std::vector<StepParam> params;          // by parameter index; rows == 0: not in this step
    std::vector<StepScalars> candidates;
    std::vector<int64_t> participants;      // indices of the parameters taking the step
};

// `slots` is the size of the per-parameter arrays (every CUDA parameter index is below it).
StepInputs build_step_inputs(const AlgorithmTraits& algorithm, const std::vector<DeviceParam>& params,
                             const StepCounters& counters, int64_t slots);

}  // namespace cuda
}  // namespace bnb
