// Step kernels of Adam (coupled L2 decay) and AdamW, for fp32, fp16 and bf16 parameters.
#include "core/rules/adam.hpp"
#include "cuda/step_kernel.cuh"

namespace bnb {
namespace cuda {

Status launch_step_adam(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch) {
    if (rule == RuleId::kAdamL2) return launch_step_rule<AdamL2Rule>(dtype, args, phase, launch);
    return launch_step_rule<AdamWRule>(dtype, args, phase, launch);
}

}  // namespace cuda
}  // namespace bnb
