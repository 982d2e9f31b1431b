// The rule variants of the family, each one instantiation of the shared rules (src/core/rules): the
// CPU's kernel tables and the CUDA backend's launches are indexed by the same list and choose from it
// with the same function, so the two backends cannot disagree on which update a parameter gets.
#pragma once

#include <cstdint>

#include "bnb8.h"

namespace bnb {

enum class RuleId : int32_t {
    kAdamL2,
    kAdamW,
    kSgdPlain,
    kSgdMomentum,
    kSgdNesterov,
    kLion,
    kLamb,
    kLars,
    kRmsprop,
    kAdagrad,
    kAdemamix,
    kCount
};
constexpr int kRuleCount = static_cast<int>(RuleId::kCount);

// `algorithm` is a validated bnb_algorithm; `stateful` is false only for SGD without momentum (no
// state, the plain rule); `nesterov` picks SGD's Nesterov form.
constexpr RuleId rule_id_for(int32_t algorithm, bool stateful, bool nesterov) {
    switch (algorithm) {
        case BNB_ALGO_ADAM: return RuleId::kAdamL2;
        case BNB_ALGO_SGD:
            if (!stateful) return RuleId::kSgdPlain;
            return nesterov ? RuleId::kSgdNesterov : RuleId::kSgdMomentum;
        case BNB_ALGO_LION: return RuleId::kLion;
        case BNB_ALGO_LAMB: return RuleId::kLamb;
        case BNB_ALGO_LARS: return RuleId::kLars;
        case BNB_ALGO_RMSPROP: return RuleId::kRmsprop;
        case BNB_ALGO_ADAGRAD: return RuleId::kAdagrad;
        case BNB_ALGO_ADEMAMIX: return RuleId::kAdemamix;
        default: return RuleId::kAdamW;  // BNB_ALGO_ADAMW (the optimizer validated the value)
    }
}

// LAMB and LARS scale the update by a trust ratio computed from norms over the whole tensor.
constexpr bool is_trust_ratio_rule(RuleId id) { return id == RuleId::kLamb || id == RuleId::kLars; }

}  // namespace bnb
