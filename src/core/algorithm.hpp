// Host-side facts about each algorithm: its name, its public states and their maps, its
// hyper-parameters with their defaults and bounds, and the rules that reject invalid or unsupported
// combinations (ALGORITHMS.md §3, §6, §10).
#pragma once

#include <cstdint>

#include "bnb8.h"
#include "status.hpp"

namespace bnb {

// Hyper-parameters: per group, overridable per parameter, re-read at every step. A field that an
// algorithm does not have holds 0.
struct Hparams {
    double lr = 0;
    double beta1 = 0;
    double beta2 = 0;
    double beta3 = 0;
    double eps = 0;
    double weight_decay = 0;
    double alpha = 0;
    double momentum = 0;
    double dampening = 0;
    double t_alpha = 0;
    double t_beta3 = 0;
    double max_unorm = 0;
};

// Options: optimizer-wide in the config, overridable per parameter.
struct Options {
    int32_t optim_bits = 32;
    int64_t min_8bit_size = 4096;
    bool block_wise = true;
    int32_t percentile_clipping = 100;  // 100 = off
    bool skip_zeros = false;
};

constexpr int kMaxStates = 2;

struct AlgorithmHparam {
    bnb_hparam id;
    bnb_hparam_bounds bounds;
};

struct AlgorithmTraits {
    bnb_algorithm id;
    const char* name;                     // lower case, used in messages and checkpoints
    int num_states;                       // public states: state1, state2 (SGD: 0 without momentum)
    int rows[kMaxStates];                 // fp32 values per element in each state
    bnb_qmap_kind state_map[kMaxStates];  // map each 8-bit state is quantized with
    bool trust_ratio;                     // LAMB, LARS
    bool lr_required;                     // SGD, LARS: no default learning rate
    Hparams defaults;
    const AlgorithmHparam* hparams;       // the hyper-parameters this algorithm has, with bounds
    int num_hparams;

    // fp32 state values per element, summed over the states (the rule's kSlots).
    int num_slots() const;
    // States a parameter gets at its first step (SGD has none when its momentum is 0).
    int states_for(const Hparams& effective) const;
};

// nullptr when `id` is not an algorithm.
const AlgorithmTraits* find_algorithm(int32_t id);

// A hyper-parameter's name and its field in Hparams; nullptr for values that are no bnb_hparam.
struct HparamField {
    bnb_hparam id;
    const char* name;
    double Hparams::*field;
};
const HparamField* find_hparam_field(int32_t id);
// Every bnb_hparam, for loops over all of them.
const HparamField* hparam_fields(int* count);

// The algorithm's entry for `id`; nullptr when it does not have it.
const AlgorithmHparam* find_hparam(const AlgorithmTraits& algorithm, int32_t id);

// Checks one value against the algorithm's bounds; the message names `owner` + the name (e.g.
// "config->lr") and the value.
Status check_hparam(const AlgorithmTraits& algorithm, const AlgorithmHparam& entry, double value,
                    const char* owner);

// Checks every hyper-parameter of `h` (ranges, fields the algorithm lacks being 0) and the
// combinations the algorithm rejects: SGD nesterov needs momentum > 0 and no dampening, LARS needs
// momentum > 0 (unsupported otherwise), AdEMAMix t_beta3 > 0 needs beta1 > 0 and beta3 > 0.
Status check_hparams(const AlgorithmTraits& algorithm, const Hparams& h, bool nesterov, const char* owner);

// Option keys (bnb_option) ---------------------------------------------------------------------------

struct OptionField {
    bnb_option id;
    const char* name;
    bool shapes_state;  // optim_bits, min_8bit_size, block_wise, percentile_clipping
};
const OptionField* find_option_field(int32_t id);
const OptionField* option_fields(int* count);

// Validates `value` for the option and stores it into `options`.
Status set_option(const OptionField& field, double value, const char* owner, Options* options);
double get_option(const OptionField& field, const Options& options);
// Copies one option's value from `from` into `to`.
void copy_option(const OptionField& field, const Options& from, Options* to);

}  // namespace bnb
