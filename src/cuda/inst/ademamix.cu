// Step kernels of AdEMAMix (three fp32 slots per element: m1, m2, nu).
#include "core/rules/ademamix.hpp"
#include "cuda/step_kernel.cuh"

namespace bnb {
namespace cuda {

Status launch_step_ademamix(RuleId, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch) {
    return launch_step_rule<AdemamixRule>(dtype, args, phase, launch);
}

}  // namespace cuda
}  // namespace bnb
