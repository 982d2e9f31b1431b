// Step kernels of Lion.
#include "core/rules/lion.hpp"
#include "cuda/step_kernel.cuh"

namespace bnb {
namespace cuda {

Status launch_step_lion(RuleId, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch) {
    return launch_step_rule<LionRule>(dtype, args, phase, launch);
}

}  // namespace cuda
}  // namespace bnb
