// Per-step scalars (ALGORITHMS.md §5.2): computed once per parameter and step on the host, in double,
// rounded to fp32 once, and passed by value to the element rules of either backend.
#pragma once

#include <cstdint>

namespace bnb {

struct StepScalars {
    float lr;   // learning rate
    float eps;  // denominator epsilon
    float wd;   // weight decay; rules evaluate no wd*p term when it is 0
    float b1;   // beta1
    float b2;   // beta2
    float nb1;  // 1 - beta1 (computed in double)
    float nb2;  // 1 - beta2 (computed in double)
    float ic1;  // 1 / (1 - beta1^t)
    float ic2;  // 1 / sqrt(1 - beta2^t)
    float ss;   // lr / (1 - beta1^t)
    float dec;  // 1 - lr * wd
    float gs;   // gradient scale (1 when clipping is off)
    int64_t t;  // the parameter's step counter, >= 1
};

}  // namespace bnb
