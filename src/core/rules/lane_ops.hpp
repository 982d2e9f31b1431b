// The lane interface of the element rules. Every rule is a template over a lane type V: plain float on
// CUDA, in the test drivers and in the CPU's scalar path; a SIMD vector of fp32 lanes in the vectorized
// CPU paths (src/cpu/simd/). A lane type provides IEEE binary32 + - * / between lanes and with a float
// (broadcast to every lane), comparisons giving a lane mask, and overloads of the functions below, found
// by argument-dependent lookup. Each lane then performs exactly the operations of the float
// instantiation, in the same order, so every ISA path gives the same bits (ALGORITHMS.md §1).
#pragma once

#include <cmath>

#include "bnb_hd.hpp"

namespace bnb {

// Correctly rounded binary32 square root (never an approximation, §1.2).
BNB_HD float sqrt_rn(float x) { return sqrtf(x); }

// a where the mask is set, else b (for float, a bool chooses).
BNB_HD float if_then_else(bool mask, float a, float b) { return mask ? a : b; }

// Mask algebra: a and not b; a and b; not a.
BNB_HD bool and_not(bool a, bool b) { return a && !b; }
BNB_HD bool both(bool a, bool b) { return a && b; }
BNB_HD bool not_mask(bool a) { return !a; }

}  // namespace bnb
