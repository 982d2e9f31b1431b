// Step kernels of LAMB and LARS (the trust-ratio rules: a pre-pass reduces ||p|| and ||u||).
#include "core/rules/trust_ratio.hpp"
#include "cuda/step_kernel.cuh"

namespace bnb {
namespace cuda {

Status launch_step_trust_ratio(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase,
                               const Launch& launch) {
    if (rule == RuleId::kLamb) return launch_step_rule<LambRule>(dtype, args, phase, launch);
    return launch_step_rule<LarsRule>(dtype, args, phase, launch);
}

}  // namespace cuda
}  // namespace bnb
