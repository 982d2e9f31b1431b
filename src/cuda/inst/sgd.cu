// Step kernels of SGD: without momentum (no state), with momentum, with Nesterov momentum.
#include "core/rules/sgd.hpp"
#include "cuda/step_kernel.cuh"

namespace bnb {
namespace cuda {

Status launch_step_sgd(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch) {
    if (rule == RuleId::kSgdPlain) return launch_step_rule<SgdPlainRule>(dtype, args, phase, launch);
    if (rule == RuleId::kSgdNesterov) return launch_step_rule<SgdMomentumRule<true>>(dtype, args, phase, launch);
    return launch_step_rule<SgdMomentumRule<false>>(dtype, args, phase, launch);
}

}  // namespace cuda
}  // namespace bnb
