#include "step_scalars.hpp"

#include <algorithm>
#include <cmath>

namespace bnb {
namespace {

// The algorithm's b1 of §5.2: momentum for SGD and LARS, alpha for RMSprop, beta1 otherwise.
double first_coefficient(const AlgorithmTraits& algorithm, const Hparams& h) {
    switch (algorithm.id) {
        case BNB_ALGO_SGD:
        case BNB_ALGO_LARS: return h.momentum;
        case BNB_ALGO_RMSPROP: return h.alpha;
        default: return h.beta1;
    }
}

// AdEMAMix schedulers (§5.2); 0 disables each.
double ademamix_alpha(const Hparams& h, double t) {
    return h.t_alpha > 0.0 ? std::min(t * h.alpha / h.t_alpha, h.alpha) : h.alpha;
}

double ademamix_beta3(const Hparams& h, double t) {
    if (!(h.t_beta3 > 0.0)) return h.beta3;
    const double ln_beta1 = std::log(h.beta1), ln_beta3 = std::log(h.beta3);
    const double fraction = t / h.t_beta3;
    const double beta3_t = std::exp(ln_beta1 * ln_beta3 / ((1.0 - fraction) * ln_beta3 + fraction * ln_beta1));
    return std::min(beta3_t, h.beta3);
}

}  // namespace

StepScalars compute_step_scalars(const AlgorithmTraits& algorithm, const Hparams& h, int64_t t, float gs) {
    const double steps = static_cast<double>(t);
    const double b1 = first_coefficient(algorithm, h);
    const double bias1 = 1.0 - std::pow(b1, steps);  // > 0 because b1 < 1
    const double bias2 = 1.0 - std::pow(h.beta2, steps);
    StepScalars k;
    k.lr = static_cast<float>(h.lr);
    k.eps = static_cast<float>(h.eps);
    k.wd = static_cast<float>(h.weight_decay);
    k.b1 = static_cast<float>(b1);
    k.b2 = static_cast<float>(h.beta2);
    k.nb1 = static_cast<float>(1.0 - b1);
    k.nb2 = static_cast<float>(1.0 - h.beta2);
    k.ic1 = static_cast<float>(1.0 / bias1);
    k.ic2 = static_cast<float>(1.0 / std::sqrt(bias2));
    k.ss = static_cast<float>(h.lr / bias1);
    k.dec = static_cast<float>(1.0 - h.lr * h.weight_decay);
    k.omd = static_cast<float>(1.0 - h.dampening);
    const double alpha_t = ademamix_alpha(h, steps);
    const double beta3_t = ademamix_beta3(h, steps);
    k.at = static_cast<float>(alpha_t);
    k.b3t = static_cast<float>(beta3_t);
    k.nb3t = static_cast<float>(1.0 - beta3_t);
    k.gs = gs;
    k.lrs = k.lr;
    k.t = t;
    return k;
}

}  // namespace bnb
