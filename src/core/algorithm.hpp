// Host-side facts about each algorithm: its name, its public states and their maps, its
// hyper-parameters with their defaults and bounds (ALGORITHMS.md §3, §10).
#pragma once

#include <cstdint>

#include "bnb8.h"
#include "status.hpp"

namespace bnb {

// Hyper-parameters that may change between steps (per parameter group).
struct Hparams {
    double lr = 0;
    double beta1 = 0;
    double beta2 = 0;
    double eps = 0;
    double weight_decay = 0;
};

struct HparamSpec {
    bnb_hparam id;
    const char* name;
    double Hparams::*field;
    bnb_hparam_bounds bounds;
};

constexpr int kMaxStates = 2;

struct AlgorithmTraits {
    bnb_algorithm id;
    const char* name;                     // lower case, used in messages and checkpoints
    int num_states;                       // public states: state1, state2
    int rows[kMaxStates];                 // fp32 values per element in each state
    bnb_qmap_kind state_map[kMaxStates];  // map each 8-bit state is quantized with
    Hparams defaults;
    const bnb_hparam* hparams;            // the hyper-parameters this algorithm has
    int num_hparams;

    // fp32 state values per element, summed over the states (the rule's kSlots).
    int num_slots() const;
};

// nullptr when `id` is not an implemented algorithm.
const AlgorithmTraits* find_algorithm(int32_t id);

// nullptr when `id` is unknown or not a hyper-parameter of `algorithm`.
const HparamSpec* find_hparam(const AlgorithmTraits& algorithm, int32_t id);

// Checks `value` against the bounds of `spec`; the message names `owner` + spec.name (e.g.
// "config->lr") and the value.
Status check_hparam(const HparamSpec& spec, double value, const char* owner);

}  // namespace bnb
