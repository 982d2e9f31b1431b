#include "algorithm.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "names.hpp"

namespace bnb {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Bounds are shared by every algorithm that has the hyper-parameter (ALGORITHMS.md §10.2).
const HparamSpec kHparamSpecs[] = {
    {BNB_HPARAM_LR, "lr", &Hparams::lr, {0.0, kInf, 1, 0}},
    {BNB_HPARAM_BETA1, "beta1", &Hparams::beta1, {0.0, 1.0, 1, 0}},
    {BNB_HPARAM_BETA2, "beta2", &Hparams::beta2, {0.0, 1.0, 1, 0}},
    {BNB_HPARAM_EPS, "eps", &Hparams::eps, {0.0, kInf, 1, 0}},
    {BNB_HPARAM_WEIGHT_DECAY, "weight_decay", &Hparams::weight_decay, {0.0, kInf, 1, 0}},
};

const bnb_hparam kAdamHparams[] = {BNB_HPARAM_LR, BNB_HPARAM_BETA1, BNB_HPARAM_BETA2, BNB_HPARAM_EPS,
                                   BNB_HPARAM_WEIGHT_DECAY};

const AlgorithmTraits kAlgorithms[] = {
    {BNB_ALGO_ADAM, "adam", 2, {1, 1}, {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED},
     Hparams{1e-3, 0.9, 0.999, 1e-8, 0.0}, kAdamHparams, 5},
    {BNB_ALGO_ADAMW, "adamw", 2, {1, 1}, {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED},
     Hparams{1e-3, 0.9, 0.999, 1e-8, 1e-2}, kAdamHparams, 5},
};

std::string describe_bounds(const bnb_hparam_bounds& b) {
    std::string text = b.min_inclusive ? "[" : "(";
    text += format_double(b.min) + ", " + format_double(b.max);
    text += b.max_inclusive ? "]" : ")";
    return text;
}

}  // namespace

int AlgorithmTraits::num_slots() const {
    int slots = 0;
    for (int i = 0; i < num_states; ++i) slots += rows[i];
    return slots;
}

const AlgorithmTraits* find_algorithm(int32_t id) {
    for (const AlgorithmTraits& traits : kAlgorithms) {
        if (traits.id == id) return &traits;
    }
    return nullptr;
}

const HparamSpec* find_hparam(const AlgorithmTraits& algorithm, int32_t id) {
    for (int i = 0; i < algorithm.num_hparams; ++i) {
        if (algorithm.hparams[i] != id) continue;
        for (const HparamSpec& spec : kHparamSpecs) {
            if (spec.id == id) return &spec;
        }
    }
    return nullptr;
}

Status check_hparam(const HparamSpec& spec, double value, const char* owner) {
    const bnb_hparam_bounds& b = spec.bounds;
    const bool above_min = b.min_inclusive ? value >= b.min : value > b.min;
    const bool below_max = b.max_inclusive ? value <= b.max : value < b.max;
    BNB_RETURN_IF(!std::isfinite(value), BNB_ERR_INVALID_ARGUMENT, "%s%s = %s is not finite", owner,
                  spec.name, format_double(value).c_str());
    BNB_RETURN_IF(!above_min || !below_max, BNB_ERR_INVALID_ARGUMENT, "%s%s = %s is outside %s",
                  owner, spec.name, format_double(value).c_str(), describe_bounds(b).c_str());
    return Status::ok_status();
}

}  // namespace bnb
