// Per-step scalars (ALGORITHMS.md §5.2): computed once per parameter and step on the host, in double,
// rounded to fp32 once, and passed by value to the element rules of either backend.
#pragma once

#include <cstdint>

namespace bnb {

struct StepScalars {
    float lr;   // learning rate
    float eps;  // denominator epsilon
    float wd;   // weight decay; rules evaluate no wd*p term when it is 0
    float b1;   // beta1 (SGD, LARS: momentum; RMSprop: alpha)
    float b2;   // beta2
    float nb1;  // 1 - b1 (computed in double)
    float nb2;  // 1 - b2 (computed in double)
    float ic1;  // 1 / (1 - b1^t)
    float ic2;  // 1 / sqrt(1 - b2^t)
    float ss;   // lr / (1 - b1^t)
    float dec;  // 1 - lr * wd
    float omd;  // 1 - dampening
    float at;   // AdEMAMix alpha_t
    float b3t;  // AdEMAMix beta3_t
    float nb3t; // AdEMAMix 1 - beta3_t
    float gs;   // gradient scale from percentile clipping (1 when off)
    float lrs;  // LAMB, LARS: lr times the trust ratio (lr without a cap)
    int64_t t;  // the parameter's step counter, >= 1
};

}  // namespace bnb
