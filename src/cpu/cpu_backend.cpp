#include "cpu_backend.hpp"

#include "core/tree_accumulator.hpp"
#include "drivers.hpp"
#include "rules/adam.hpp"
#include "rules/ademamix.hpp"
#include "rules/lion.hpp"
#include "rules/rmsprop.hpp"
#include "rules/sgd.hpp"
#include "rules/trust_ratio.hpp"

namespace bnb {
namespace cpu {
namespace {

template <class T>
int64_t count_nonfinite_typed(const T* g, int64_t n) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += is_finite_bits(load_elem(g[i])) ? 0 : 1;
    return count;
}

template <class T>
float gradient_sq_norm_typed(const T* g, int64_t n) {
    TreeAccumulator sum;
    float lanes[kReduceWidth];
    for (int64_t b = 0; b < num_blocks(n); ++b) {
        const int len = block_length(n, b);
        for (int i = 0; i < len; ++i) {
            const float x = load_elem(g[b * kBlockSize + i]);
            lanes[i] = is_finite_bits(x) ? x * x : 0.0f;
        }
        sum.add(block_partial(lanes, len));
    }
    return static_cast<float>(sum.finish());
}

}  // namespace

StepOutcome step_param(const RuleChoice& rule, const ParamStepView& view, const StepScalars& scalars) {
    switch (rule.algorithm->id) {
        case BNB_ALGO_ADAM: return step_param_rule<AdamL2Rule>(view, scalars);
        case BNB_ALGO_ADAMW: return step_param_rule<AdamWRule>(view, scalars);
        case BNB_ALGO_SGD:
            if (!rule.stateful) return step_param_rule<SgdPlainRule>(view, scalars);
            return rule.nesterov ? step_param_rule<SgdMomentumRule<true>>(view, scalars)
                                 : step_param_rule<SgdMomentumRule<false>>(view, scalars);
        case BNB_ALGO_LION: return step_param_rule<LionRule>(view, scalars);
        case BNB_ALGO_LAMB: return step_param_rule<LambRule>(view, scalars);
        case BNB_ALGO_LARS: return step_param_rule<LarsRule>(view, scalars);
        case BNB_ALGO_RMSPROP: return step_param_rule<RmspropRule>(view, scalars);
        case BNB_ALGO_ADAGRAD: return step_param_rule<AdagradRule>(view, scalars);
        case BNB_ALGO_ADEMAMIX: return step_param_rule<AdemamixRule>(view, scalars);
    }
    return StepOutcome();
}

int64_t count_nonfinite(const void* grad, bnb_dtype dtype, int64_t numel) {
    switch (dtype) {
        case BNB_DTYPE_F32: return count_nonfinite_typed(static_cast<const float*>(grad), numel);
        case BNB_DTYPE_F16: return count_nonfinite_typed(static_cast<const f16_t*>(grad), numel);
        case BNB_DTYPE_BF16: return count_nonfinite_typed(static_cast<const bf16_t*>(grad), numel);
    }
    return 0;
}

float gradient_sq_norm(const void* grad, bnb_dtype dtype, int64_t numel) {
    switch (dtype) {
        case BNB_DTYPE_F32: return gradient_sq_norm_typed(static_cast<const float*>(grad), numel);
        case BNB_DTYPE_F16: return gradient_sq_norm_typed(static_cast<const f16_t*>(grad), numel);
        case BNB_DTYPE_BF16: return gradient_sq_norm_typed(static_cast<const bf16_t*>(grad), numel);
    }
    return 0.0f;
}

}  // namespace cpu
}  // namespace bnb
