#include "clipping.hpp"

#include <algorithm>
#include <cmath>

namespace bnb {

float update_clipping(float* history, int64_t t, float q, int percentile) {
    const int slot = static_cast<int>(t % kClipHistory);
    if (t == 1) {
        std::fill(history, history + kClipHistory, q);
    } else {
        history[slot] = q;
    }
    float sorted[kClipHistory];
    std::copy(history, history + kClipHistory, sorted);
    std::sort(sorted, sorted + kClipHistory);
    const double current = std::sqrt(static_cast<double>(history[slot]));
    const double clip = std::sqrt(static_cast<double>(sorted[percentile]));
    return current > clip ? static_cast<float>(clip / current) : 1.0f;
}

double trust_ratio(double max_unorm, double p_sq_norm, double u_sq_norm) {
    const double p_norm = std::sqrt(p_sq_norm);
    const double u_norm = std::sqrt(u_sq_norm);
    if (max_unorm == 0.0 || u_norm == 0.0) return 1.0;
    return std::min(1.0, max_unorm * p_norm / u_norm);
}

}  // namespace bnb
