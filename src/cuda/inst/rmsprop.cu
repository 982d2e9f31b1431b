// Step kernels of RMSprop and Adagrad.
#include "core/rules/rmsprop.hpp"
#include "cuda/step_kernel.cuh"

namespace bnb {
namespace cuda {

Status launch_step_rmsprop(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch) {
    if (rule == RuleId::kAdagrad) return launch_step_rule<AdagradRule>(dtype, args, phase, launch);
    return launch_step_rule<RmspropRule>(dtype, args, phase, launch);
}

}  // namespace cuda
}  // namespace bnb
