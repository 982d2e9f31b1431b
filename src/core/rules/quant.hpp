// Dynamic 8-bit quantization of optimizer states (ALGORITHMS.md §3-§4): dequantize, block absmax,
// code selection with ties to the even index, the signed map's sign fix, and zero blocks. Host and
// device share these functions; a backend may keep the tables in faster memory but calls these.
#pragma once

#include <cmath>
#include <cstdint>

#include "bnb_hd.hpp"
#include "convert.hpp"

namespace bnb {

constexpr int kBlockSize = 256;
constexpr int kMapSize = 256;

// Note [select lookup]: code selection needs c = #{j : mid_j < x}. A binary search costs 8 dependent
// loads; instead, |x| in [2^-24, 2) is cut into buckets of 2^15 consecutive floats (25 binades x 256
// buckets per sign). When every bucket holds at most one midpoint, lut[bucket] = #{j : mid_j < the
// bucket's smallest float} and c = lut[bucket] + (mid[lut[bucket]] < x): one table load, one compare.
// |x| < 2^-24 gives tiny_code and |x| >= 2 gives 0 or 255. The host builds the table from the
// midpoints and checks these conditions for each map (QuantMap); a map that fails them (possible only
// for unusual loaded maps) has lut == nullptr and uses the binary search. Both give identical codes.
constexpr int kLutMantissaBits = 8;
constexpr int kLutMinExponent = -24;  // buckets start at 2^-24
constexpr int kLutBinades = 25;       // up to 2^1
constexpr int kLutHalf = kLutBinades << kLutMantissaBits;
constexpr int kLutSize = 2 * kLutHalf;
constexpr uint32_t kLutTinyBits = static_cast<uint32_t>(127 + kLutMinExponent) << 23;                  // 2^-24
constexpr uint32_t kLutHugeBits = static_cast<uint32_t>(127 + kLutMinExponent + kLutBinades) << 23;  // 2^1

// A map as the kernels see it. `mid` holds the 255 midpoints fl32(fl32(map[j] + map[j+1]) * 0.5f) and a
// 256th entry of +Inf, so the branch-free search below can run over a power of two.
struct QuantTables {
    const float* values;  // 256 strictly increasing entries
    const float* mid;     // 256 entries: 255 midpoints, then +Inf
    const uint8_t* lut;   // kLutSize bucket bases (Note [select lookup]), or nullptr
    uint8_t tiny_code;    // #{j : mid_j < x} for every |x| < 2^-24 (valid when lut != nullptr)
    uint8_t zero_code;    // index of +0.0 (127 signed, 0 unsigned)
    bool is_signed;       // values[0] < 0: the sign fix applies
};

// Bucket of x for |x| in [2^-24, 2): negative values below kLutHalf, in increasing value order.
BNB_HD int lut_bucket(uint32_t bits) {
    const uint32_t magnitude = bits & 0x7FFFFFFFu;
    const int position = static_cast<int>((magnitude - kLutTinyBits) >> (23 - kLutMantissaBits));
    return (bits >> 31) ? kLutHalf - 1 - position : kLutHalf + position;
}

// Smallest normal fp32 (2^-126): a block whose absmax is below it is stored as a zero block.
constexpr float kMinNormal = 1.17549435e-38f;

BNB_HD int64_t num_blocks(int64_t n) { return (n + kBlockSize - 1) / kBlockSize; }

// s = map[code] * absmax, with +0.0 when absmax is 0 (normalizes map[0] * 0 = -0).
BNB_HD float dequantize(const QuantTables& q, uint8_t code, float absmax) {
    return absmax == 0.0f ? 0.0f : q.values[code] * absmax;
}

// c = #{j : mid_j < x} by branch-free binary search; NaN gives 0 (every comparison is false).
BNB_HD int count_midpoints_below(const float* mid, float x) {
    int c = 0;
    for (int step = kMapSize / 2; step >= 1; step >>= 1) {
        c += (mid[c + step - 1] < x) ? step : 0;
    }
    return c;
}

// The same count through the bucket table (Note [select lookup]); requires q.lut.
BNB_HD int count_midpoints_below_lut(const QuantTables& q, float x) {
    const uint32_t bits = float_to_bits(x);
    const uint32_t magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return 0;  // NaN
    if (magnitude < kLutTinyBits) return q.tiny_code;
    if (magnitude >= kLutHugeBits) return (bits >> 31) ? 0 : kMapSize - 1;
    const int base = q.lut[lut_bucket(bits)];
    return base + (q.mid[base] < x ? 1 : 0);
}

// Code of x = s * r (r = 1/A) by the select rule of §4.3: the count of midpoints below x, where an
// exact tie with a midpoint goes to the even index and NaN gives 0.
BNB_HD uint8_t select_code(const QuantTables& q, float x) {
    int c = q.lut != nullptr ? count_midpoints_below_lut(q, x) : count_midpoints_below(q.mid, x);
    if (c < kMapSize - 1 && x == q.mid[c] && (c & 1)) ++c;
    return static_cast<uint8_t>(c);
}

// Sign fix for signed maps: a value never changes sign through quantization, so a negative value
// (including -0.0) whose nearest code is the zero code is stored one code lower. Never applied to NaN.
BNB_HD uint8_t sign_fixed_code(const QuantTables& q, uint8_t c, float s) {
    if (!q.is_signed || s != s) return c;
    const bool code_negative = (float_to_bits(q.values[c]) >> 31) != 0;
    const bool value_negative = (float_to_bits(s) >> 31) != 0;
    if (code_negative == value_negative) return c;
    return static_cast<uint8_t>(s > 0.0f ? c + 1 : c - 1);
}

// Running absmax, starting from +0.0: fmax(a, |s|), which ignores NaN, so the result is independent of
// order. Written as a compare because a is never NaN, which lets compilers inline it (a call to fmaxf
// cannot be, without fast-math).
BNB_HD float absmax_accumulate(float a, float s) {
    const float magnitude = fabsf(s);
    return magnitude > a ? magnitude : a;
}

// How a block (or, in tensor-wise mode, a tensor) is scaled, from its absmax A (§4.2-4.3). A below the
// smallest normal (A == 0 and every subnormal A) makes a zero block: absmax 0 and the zero code for every
// element, which keeps 1/A finite and never computes 0/0. Otherwise r = 1/A, once per block.
struct BlockScale {
    float absmax;  // the value stored for the block
    float r;       // 1 / absmax
    bool zero;     // zero block
};

BNB_HD BlockScale block_scale(float a) {
    if (a < kMinNormal) return BlockScale{0.0f, 0.0f, true};
    return BlockScale{a, 1.0f / a, false};
}

// Code of the new state value s in a block scaled by b.
BNB_HD uint8_t quantize_value(const QuantTables& q, float s, const BlockScale& b) {
    if (b.zero) return q.zero_code;
    return sign_fixed_code(q, select_code(q, s * b.r), s);
}

}  // namespace bnb
