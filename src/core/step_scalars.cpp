#include "step_scalars.hpp"

#include <cmath>

namespace bnb {

StepScalars compute_step_scalars(const Hparams& h, int64_t t, float gs) {
    const double steps = static_cast<double>(t);
    const double bias1 = 1.0 - std::pow(h.beta1, steps);  // 1 - beta1^t > 0 because beta1 < 1
    const double bias2 = 1.0 - std::pow(h.beta2, steps);
    StepScalars k;
    k.lr = static_cast<float>(h.lr);
    k.eps = static_cast<float>(h.eps);
    k.wd = static_cast<float>(h.weight_decay);
    k.b1 = static_cast<float>(h.beta1);
    k.b2 = static_cast<float>(h.beta2);
    k.nb1 = static_cast<float>(1.0 - h.beta1);
    k.nb2 = static_cast<float>(1.0 - h.beta2);
    k.ic1 = static_cast<float>(1.0 / bias1);
    k.ic2 = static_cast<float>(1.0 / std::sqrt(bias2));
    k.ss = static_cast<float>(h.lr / bias1);
    k.dec = static_cast<float>(1.0 - h.lr * h.weight_decay);
    k.gs = gs;
    k.t = t;
    return k;
}

}  // namespace bnb
