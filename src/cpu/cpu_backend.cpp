#include "cpu_backend.hpp"

#include "drivers.hpp"
#include "rules/adam.hpp"

namespace bnb {
namespace cpu {

int64_t step_param(const AlgorithmTraits& algorithm, const ParamStepView& view, const StepScalars& scalars) {
    switch (algorithm.id) {
        case BNB_ALGO_ADAM: return step_param_rule<AdamL2Rule>(view, scalars);
        case BNB_ALGO_ADAMW: return step_param_rule<AdamWRule>(view, scalars);
    }
    return 0;
}

}  // namespace cpu
}  // namespace bnb
