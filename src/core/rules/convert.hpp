// Exact loads of fp32/fp16/bf16 elements into fp32, and the one rounding store back (ALGORITHMS.md §1.4):
// round to nearest even, overflow to +-Inf, every NaN written as 0x7FFF (what CUDA's __float2half_rn and
// __float2bfloat16_rn produce). Integer-only, so the result does not depend on FTZ/DAZ or the compiler.
#pragma once

#include <cstdint>
#include <cstring>

#include "bnb_hd.hpp"

namespace bnb {

BNB_HD uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
#endif
}

BNB_HD float bits_to_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
#endif
}

// Storage types for the 16-bit formats: plain integers, so no compiler half type is involved.
struct f16_t {
    uint16_t bits;
};
struct bf16_t {
    uint16_t bits;
};

constexpr uint16_t kCanonicalNaN16 = 0x7FFF;

BNB_HD float bf16_bits_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

BNB_HD uint16_t float_to_bf16_bits(float f) {
    uint32_t u = float_to_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return kCanonicalNaN16;
    // Round to nearest even on the 16 dropped bits; a carry into the exponent gives Inf correctly.
    u += 0x7FFFu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

BNB_HD float f16_bits_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    if (exp == 0x1Fu) return bits_to_float(sign | 0x7F800000u | (mant << 13));  // Inf, NaN
    if (exp != 0) return bits_to_float(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0) return bits_to_float(sign);  // +-0
    // Subnormal half: value = mant * 2^-24. Normalize the significand into a normal fp32.
    uint32_t e = 113;  // fp32 biased exponent of 2^-14, lowered once per shift below
    while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --e;
    }
    return bits_to_float(sign | (e << 23) | ((mant & 0x3FFu) << 13));
}

BNB_HD uint16_t float_to_f16_bits(float f) {
    const uint32_t u = float_to_bits(f);
    const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return kCanonicalNaN16;
    // 65520 (0x477FF000) is the midpoint between the largest half, 65504, and 2^16: ties go to the
    // even neighbour, which is Inf.
    if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
    if (a >= 0x38800000u) {
        // Normal half (>= 2^-14): rebias the exponent from 127 to 15, then drop 13 bits to nearest even.
        uint32_t r = a - 0x38000000u;
        r += 0xFFFu + ((r >> 13) & 1u);
        return static_cast<uint16_t>(sign | (r >> 13));
    }
    // Subnormal half or zero: the result counts units of 2^-24.
    const uint32_t e = a >> 23;
    const uint32_t shift = 126u - e;  // value = m * 2^(e-150), so units = m >> (126 - e)
    if (e == 0 || shift > 24u) return sign;  // below 2^-25: rounds to zero (2^-25 itself ties to even 0)
    const uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) ++q;  // may carry into the smallest normal: still right
    return static_cast<uint16_t>(sign | q);
}

// Element access by storage type: load converts exactly to fp32, store rounds once.
BNB_HD float load_elem(float x) { return x; }
BNB_HD float load_elem(f16_t x) { return f16_bits_to_float(x.bits); }
BNB_HD float load_elem(bf16_t x) { return bf16_bits_to_float(x.bits); }

template <class T>
BNB_HD T store_elem(float x);
template <>
BNB_HD float store_elem<float>(float x) {
    return x;
}
template <>
BNB_HD f16_t store_elem<f16_t>(float x) {
    return f16_t{float_to_f16_bits(x)};
}
template <>
BNB_HD bf16_t store_elem<bf16_t>(float x) {
    return bf16_t{float_to_bf16_bits(x)};
}

}  // namespace bnb
