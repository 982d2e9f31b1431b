// Per-parameter overrides of hyper-parameters and options (ALGORITHMS.md §8.3): each parameter owns
// its own set (never shared); resolution is override > group (hyper-parameters) or config (options).
#pragma once

#include <cstdint>

#include "algorithm.hpp"

namespace bnb {

struct ParamOverrides {
    uint32_t hparams_set = 0;  // bit i: hparam_fields()[i] is overridden
    Hparams hparams;
    uint32_t options_set = 0;  // bit i: option_fields()[i] is overridden
    Options options;
};

Hparams effective_hparams(const Hparams& group, const ParamOverrides& overrides);
Options effective_options(const Options& config, const ParamOverrides& overrides);

// Position of a key in hparam_fields() or option_fields(); -1 when it is not there.
int hparam_bit(int32_t key);
int option_bit(int32_t key);

}  // namespace bnb
