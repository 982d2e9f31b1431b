#include "clipping.hpp"

namespace bnb {

float update_clipping(float* history, int64_t t, float q, int percentile) {
    return clipping_scale(history, t, q, percentile);
}

double trust_ratio(double max_unorm, double p_sq_norm, double u_sq_norm) {
    return trust_ratio_scale(max_unorm, p_sq_norm, u_sq_norm);
}

}  // namespace bnb
