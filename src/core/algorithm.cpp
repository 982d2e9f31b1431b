#include "algorithm.hpp"

#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "names.hpp"

namespace bnb {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr bnb_hparam_bounds kNonNegative = {0.0, kInf, 1, 0};
constexpr bnb_hparam_bounds kUnitInterval = {0.0, 1.0, 1, 0};  // [0, 1)

const HparamField kHparamFields[] = {
    {BNB_HPARAM_LR, "lr", &Hparams::lr},
    {BNB_HPARAM_BETA1, "beta1", &Hparams::beta1},
    {BNB_HPARAM_BETA2, "beta2", &Hparams::beta2},
    {BNB_HPARAM_BETA3, "beta3", &Hparams::beta3},
    {BNB_HPARAM_EPS, "eps", &Hparams::eps},
    {BNB_HPARAM_ALPHA, "alpha", &Hparams::alpha},
    {BNB_HPARAM_MOMENTUM, "momentum", &Hparams::momentum},
    {BNB_HPARAM_DAMPENING, "dampening", &Hparams::dampening},
    {BNB_HPARAM_T_ALPHA, "t_alpha", &Hparams::t_alpha},
    {BNB_HPARAM_T_BETA3, "t_beta3", &Hparams::t_beta3},
    {BNB_HPARAM_WEIGHT_DECAY, "weight_decay", &Hparams::weight_decay},
    {BNB_HPARAM_MAX_UNORM, "max_unorm", &Hparams::max_unorm},
};

// The hyper-parameters of each algorithm and their ranges (ALGORITHMS.md §10.2).
const AlgorithmHparam kAdamHparams[] = {{BNB_HPARAM_LR, kNonNegative},   {BNB_HPARAM_BETA1, kUnitInterval},
                                        {BNB_HPARAM_BETA2, kUnitInterval}, {BNB_HPARAM_EPS, kNonNegative},
                                        {BNB_HPARAM_WEIGHT_DECAY, kNonNegative}};
const AlgorithmHparam kSgdHparams[] = {{BNB_HPARAM_LR, kNonNegative},
                                       {BNB_HPARAM_MOMENTUM, kUnitInterval},
                                       {BNB_HPARAM_DAMPENING, kUnitInterval},
                                       {BNB_HPARAM_WEIGHT_DECAY, kNonNegative}};
const AlgorithmHparam kLionHparams[] = {{BNB_HPARAM_LR, kNonNegative},
                                        {BNB_HPARAM_BETA1, kUnitInterval},
                                        {BNB_HPARAM_BETA2, kUnitInterval},
                                        {BNB_HPARAM_WEIGHT_DECAY, kNonNegative}};
const AlgorithmHparam kLambHparams[] = {{BNB_HPARAM_LR, kNonNegative},   {BNB_HPARAM_BETA1, kUnitInterval},
                                        {BNB_HPARAM_BETA2, kUnitInterval}, {BNB_HPARAM_EPS, kNonNegative},
                                        {BNB_HPARAM_WEIGHT_DECAY, kNonNegative}, {BNB_HPARAM_MAX_UNORM, kNonNegative}};
const AlgorithmHparam kLarsHparams[] = {{BNB_HPARAM_LR, kNonNegative},
                                        {BNB_HPARAM_MOMENTUM, kUnitInterval},
                                        {BNB_HPARAM_WEIGHT_DECAY, kNonNegative},
                                        {BNB_HPARAM_MAX_UNORM, kNonNegative}};
const AlgorithmHparam kRmspropHparams[] = {{BNB_HPARAM_LR, kNonNegative},
                                           {BNB_HPARAM_ALPHA, kUnitInterval},
                                           {BNB_HPARAM_EPS, kNonNegative},
                                           {BNB_HPARAM_WEIGHT_DECAY, kNonNegative}};
const AlgorithmHparam kAdagradHparams[] = {
    {BNB_HPARAM_LR, kNonNegative}, {BNB_HPARAM_EPS, kNonNegative}, {BNB_HPARAM_WEIGHT_DECAY, kNonNegative}};
const AlgorithmHparam kAdemamixHparams[] = {
    {BNB_HPARAM_LR, kNonNegative},      {BNB_HPARAM_BETA1, kUnitInterval},  {BNB_HPARAM_BETA2, kUnitInterval},
    {BNB_HPARAM_BETA3, kUnitInterval},  {BNB_HPARAM_ALPHA, kNonNegative},   {BNB_HPARAM_EPS, kNonNegative},
    {BNB_HPARAM_WEIGHT_DECAY, kNonNegative}, {BNB_HPARAM_T_ALPHA, kNonNegative}, {BNB_HPARAM_T_BETA3, kNonNegative}};

#define BNB_COUNT(array) static_cast<int>(sizeof(array) / sizeof((array)[0]))

Hparams defaults(double lr, double beta1, double beta2, double eps, double weight_decay) {
    Hparams h;
    h.lr = lr;
    h.beta1 = beta1;
    h.beta2 = beta2;
    h.eps = eps;
    h.weight_decay = weight_decay;
    return h;
}

Hparams with(Hparams h, double Hparams::*field, double value) {
    h.*field = value;
    return h;
}

// Defaults of §10.1: bitsandbytes' classes, which follow torch.
const AlgorithmTraits kAlgorithms[] = {
    {BNB_ALGO_ADAM, "adam", 2, {1, 1}, {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED}, false, false,
     defaults(1e-3, 0.9, 0.999, 1e-8, 0.0), kAdamHparams, BNB_COUNT(kAdamHparams)},
    {BNB_ALGO_ADAMW, "adamw", 2, {1, 1}, {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED}, false, false,
     defaults(1e-3, 0.9, 0.999, 1e-8, 1e-2), kAdamHparams, BNB_COUNT(kAdamHparams)},
    {BNB_ALGO_SGD, "sgd", 1, {1, 0}, {BNB_QMAP_SIGNED, BNB_QMAP_SIGNED}, false, true,
     defaults(0.0, 0.0, 0.0, 0.0, 0.0), kSgdHparams, BNB_COUNT(kSgdHparams)},
    {BNB_ALGO_LION, "lion", 1, {1, 0}, {BNB_QMAP_SIGNED, BNB_QMAP_SIGNED}, false, false,
     defaults(1e-4, 0.9, 0.99, 0.0, 0.0), kLionHparams, BNB_COUNT(kLionHparams)},
    {BNB_ALGO_LAMB, "lamb", 2, {1, 1}, {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED}, true, false,
     with(defaults(1e-3, 0.9, 0.999, 1e-8, 0.0), &Hparams::max_unorm, 1.0), kLambHparams, BNB_COUNT(kLambHparams)},
    {BNB_ALGO_LARS, "lars", 1, {1, 0}, {BNB_QMAP_SIGNED, BNB_QMAP_SIGNED}, true, true,
     with(defaults(0.0, 0.0, 0.0, 0.0, 0.0), &Hparams::max_unorm, 0.02), kLarsHparams, BNB_COUNT(kLarsHparams)},
    {BNB_ALGO_RMSPROP, "rmsprop", 1, {1, 0}, {BNB_QMAP_SIGNED, BNB_QMAP_SIGNED}, false, false,
     with(defaults(1e-2, 0.0, 0.0, 1e-8, 0.0), &Hparams::alpha, 0.99), kRmspropHparams, BNB_COUNT(kRmspropHparams)},
    {BNB_ALGO_ADAGRAD, "adagrad", 1, {1, 0}, {BNB_QMAP_SIGNED, BNB_QMAP_SIGNED}, false, false,
     defaults(1e-2, 0.0, 0.0, 1e-10, 0.0), kAdagradHparams, BNB_COUNT(kAdagradHparams)},
    {BNB_ALGO_ADEMAMIX, "ademamix", 2, {2, 1}, {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED}, false, false,
     with(with(defaults(1e-3, 0.9, 0.999, 1e-8, 1e-2), &Hparams::beta3, 0.9999), &Hparams::alpha, 5.0),
     kAdemamixHparams, BNB_COUNT(kAdemamixHparams)},
};

std::string describe_bounds(const bnb_hparam_bounds& b) {
    std::string text = b.min_inclusive ? "[" : "(";
    text += format_double(b.min) + ", " + format_double(b.max);
    text += b.max_inclusive ? "]" : ")";
    return text;
}

const OptionField kOptionFields[] = {
    {BNB_OPTION_OPTIM_BITS, "optim_bits", true},
    {BNB_OPTION_MIN_8BIT_SIZE, "min_8bit_size", true},
    {BNB_OPTION_BLOCK_WISE, "block_wise", true},
    {BNB_OPTION_PERCENTILE_CLIPPING, "percentile_clipping", true},
    {BNB_OPTION_SKIP_ZEROS, "skip_zeros", false},
};

}  // namespace

int AlgorithmTraits::num_slots() const {
    int slots = 0;
    for (int i = 0; i < num_states; ++i) slots += rows[i];
    return slots;
}

int AlgorithmTraits::states_for(const Hparams& effective) const {
    if (id == BNB_ALGO_SGD && effective.momentum == 0.0) return 0;
    return num_states;
}

const AlgorithmTraits* find_algorithm(int32_t id) {
    for (const AlgorithmTraits& traits : kAlgorithms) {
        if (traits.id == id) return &traits;
    }
    return nullptr;
}

const HparamField* find_hparam_field(int32_t id) {
    for (const HparamField& field : kHparamFields) {
        if (field.id == id) return &field;
    }
    return nullptr;
}

const HparamField* hparam_fields(int* count) {
    *count = BNB_COUNT(kHparamFields);
    return kHparamFields;
}

const AlgorithmHparam* find_hparam(const AlgorithmTraits& algorithm, int32_t id) {
    for (int i = 0; i < algorithm.num_hparams; ++i) {
        if (algorithm.hparams[i].id == id) return &algorithm.hparams[i];
    }
    return nullptr;
}

Status check_hparam(const AlgorithmTraits& algorithm, const AlgorithmHparam& entry, double value, const char* owner) {
    (void)algorithm;
    const char* name = find_hparam_field(entry.id)->name;
    const bnb_hparam_bounds& b = entry.bounds;
    BNB_RETURN_IF(!std::isfinite(value), BNB_ERR_INVALID_ARGUMENT, "%s%s = %s is not finite", owner, name,
                  format_double(value).c_str());
    // The per-step scalars are rounded to fp32 (ALGORITHMS.md §5.2): a value beyond the float range would
    // become +-Inf there (docs/extreme-values.md).
    BNB_RETURN_IF(std::fabs(value) > static_cast<double>(FLT_MAX), BNB_ERR_INVALID_ARGUMENT,
                  "%s%s = %s is outside the float range (|value| <= %s)", owner, name, format_double(value).c_str(),
                  format_double(static_cast<double>(FLT_MAX)).c_str());
    const bool above_min = b.min_inclusive ? value >= b.min : value > b.min;
    const bool below_max = b.max_inclusive ? value <= b.max : value < b.max;
    BNB_RETURN_IF(!above_min || !below_max, BNB_ERR_INVALID_ARGUMENT, "%s%s = %s is outside %s", owner, name,
                  format_double(value).c_str(), describe_bounds(b).c_str());
    return Status::ok_status();
}

Status check_hparams(const AlgorithmTraits& algorithm, const Hparams& h, bool nesterov, const char* owner) {
    for (const HparamField& field : kHparamFields) {
        const double value = h.*(field.field);
        const AlgorithmHparam* entry = find_hparam(algorithm, field.id);
        if (entry != nullptr) {
            BNB_FORWARD(check_hparam(algorithm, *entry, value, owner));
            continue;
        }
        // RMSprop momentum and LARS dampening exist in the family but not in bnb8 (§10.2): they are
        // unsupported, not ignored.
        const bool unsupported = (algorithm.id == BNB_ALGO_RMSPROP && field.id == BNB_HPARAM_MOMENTUM) ||
                                 (algorithm.id == BNB_ALGO_LARS && field.id == BNB_HPARAM_DAMPENING);
        BNB_RETURN_IF(unsupported && value != 0.0, BNB_ERR_UNSUPPORTED, "%s%s = %s: %s with %s is not supported",
                      owner, field.name, format_double(value).c_str(), algorithm.name, field.name);
        BNB_RETURN_IF(value != 0.0, BNB_ERR_INVALID_ARGUMENT, "%s%s = %s does not apply to %s (it must be 0)", owner,
                      field.name, format_double(value).c_str(), algorithm.name);
    }
    switch (algorithm.id) {
        case BNB_ALGO_SGD:
            BNB_RETURN_IF(nesterov && (h.momentum == 0.0 || h.dampening != 0.0), BNB_ERR_INVALID_ARGUMENT,
                          "%snesterov needs momentum > 0 and dampening = 0 (momentum = %s, dampening = %s)", owner,
                          format_double(h.momentum).c_str(), format_double(h.dampening).c_str());
            break;
        case BNB_ALGO_LARS:
            BNB_RETURN_IF(h.momentum == 0.0, BNB_ERR_UNSUPPORTED,
                          "%smomentum = 0: LARS without momentum is not supported (set momentum > 0)", owner);
            break;
        case BNB_ALGO_ADEMAMIX:
            BNB_RETURN_IF(h.t_beta3 > 0.0 && (h.beta1 == 0.0 || h.beta3 == 0.0), BNB_ERR_INVALID_ARGUMENT,
                          "%st_beta3 = %s needs beta1 > 0 and beta3 > 0 (its schedule takes their logarithms)",
                          owner, format_double(h.t_beta3).c_str());
            break;
        default:
            break;
    }
    return Status::ok_status();
}

const OptionField* find_option_field(int32_t id) {
    for (const OptionField& field : kOptionFields) {
        if (field.id == id) return &field;
    }
    return nullptr;
}

const OptionField* option_fields(int* count) {
    *count = BNB_COUNT(kOptionFields);
    return kOptionFields;
}

Status set_option(const OptionField& field, double value, const char* owner, Options* options) {
    BNB_RETURN_IF(!std::isfinite(value) || value != std::floor(value), BNB_ERR_INVALID_ARGUMENT,
                  "%s%s = %s is not an integer", owner, field.name, format_double(value).c_str());
    switch (field.id) {
        case BNB_OPTION_OPTIM_BITS:
            BNB_RETURN_IF(value != 8.0 && value != 32.0, BNB_ERR_INVALID_ARGUMENT, "%soptim_bits = %s must be 8 or 32",
                          owner, format_double(value).c_str());
            options->optim_bits = static_cast<int32_t>(value);
            return Status::ok_status();
        case BNB_OPTION_MIN_8BIT_SIZE:
            BNB_RETURN_IF(value < 0.0 || value >= 9223372036854775808.0, BNB_ERR_INVALID_ARGUMENT,
                          "%smin_8bit_size = %s must be in [0, 2^63)", owner, format_double(value).c_str());
            options->min_8bit_size = static_cast<int64_t>(value);
            return Status::ok_status();
        case BNB_OPTION_BLOCK_WISE:
        case BNB_OPTION_SKIP_ZEROS:
            BNB_RETURN_IF(value != 0.0 && value != 1.0, BNB_ERR_INVALID_ARGUMENT, "%s%s = %s must be 0 or 1", owner,
                          field.name, format_double(value).c_str());
            (field.id == BNB_OPTION_BLOCK_WISE ? options->block_wise : options->skip_zeros) = value == 1.0;
            return Status::ok_status();
        case BNB_OPTION_PERCENTILE_CLIPPING:
            BNB_RETURN_IF(value < 0.0 || value > 100.0, BNB_ERR_INVALID_ARGUMENT,
                          "%spercentile_clipping = %s must be an integer in [0, 100]", owner,
                          format_double(value).c_str());
            options->percentile_clipping = static_cast<int32_t>(value);
            return Status::ok_status();
    }
    return make_error(BNB_ERR_INTERNAL, "option %d has no setter", static_cast<int>(field.id));
}

double get_option(const OptionField& field, const Options& options) {
    switch (field.id) {
        case BNB_OPTION_OPTIM_BITS: return options.optim_bits;
        case BNB_OPTION_MIN_8BIT_SIZE: return static_cast<double>(options.min_8bit_size);
        case BNB_OPTION_BLOCK_WISE: return options.block_wise ? 1.0 : 0.0;
        case BNB_OPTION_PERCENTILE_CLIPPING: return options.percentile_clipping;
        case BNB_OPTION_SKIP_ZEROS: return options.skip_zeros ? 1.0 : 0.0;
    }
    return 0.0;
}

void copy_option(const OptionField& field, const Options& from, Options* to) {
    switch (field.id) {
        case BNB_OPTION_OPTIM_BITS: to->optim_bits = from.optim_bits; return;
        case BNB_OPTION_MIN_8BIT_SIZE: to->min_8bit_size = from.min_8bit_size; return;
        case BNB_OPTION_BLOCK_WISE: to->block_wise = from.block_wise; return;
        case BNB_OPTION_PERCENTILE_CLIPPING: to->percentile_clipping = from.percentile_clipping; return;
        case BNB_OPTION_SKIP_ZEROS: to->skip_zeros = from.skip_zeros; return;
    }
}

}  // namespace bnb
