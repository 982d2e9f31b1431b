// The AVX-512 lane policy: 16 fp32 lanes per vector, mask registers for lane selection and masked
// stores, gathers for the table lookups. Included only by kernels_avx512.cpp (compiled with -mavx512f
// -mavx512bw -mavx512dq -mavx512vl; -ffp-contract=off keeps multiplies and adds separate, and no FMA
// intrinsic is used). Each operation is the IEEE operation the float rule performs, lane by lane.
// A test also compiles these lanes on SIMDe's portable AVX-512 (BNB_AVX512_LANES_EMULATED,
// tests/c/emulated/), so their logic is checked on machines without AVX-512; that
// build names its namespace avx512_emulated, so its instantiations never clash with the real ones.
#pragma once

#if defined(BNB_AVX512_LANES_EMULATED)
#define BNB_AVX512_LANES_NAMESPACE avx512_emulated  // the includer brings the emulated intrinsics
#else
#include <immintrin.h>
#define BNB_AVX512_LANES_NAMESPACE avx512
#endif

#include <cstdint>
#include <cstring>

#include "cpu/select_table.hpp"
#include "rules/convert.hpp"
#include "rules/quant.hpp"

namespace bnb {
namespace cpu {
namespace BNB_AVX512_LANES_NAMESPACE {

struct F {
    __m512 v;
    F() = default;
    explicit F(__m512 x) : v(x) {}
    explicit F(float x) : v(_mm512_set1_ps(x)) {}
};
struct Mask {
    __mmask16 m;
};

inline F operator+(F a, F b) { return F(_mm512_add_ps(a.v, b.v)); }
inline F operator-(F a, F b) { return F(_mm512_sub_ps(a.v, b.v)); }
inline F operator*(F a, F b) { return F(_mm512_mul_ps(a.v, b.v)); }
inline F operator/(F a, F b) { return F(_mm512_div_ps(a.v, b.v)); }
inline F operator+(F a, float b) { return a + F(b); }
inline F operator-(F a, float b) { return a - F(b); }
inline F operator*(F a, float b) { return a * F(b); }
inline F operator/(F a, float b) { return a / F(b); }
inline F operator+(float a, F b) { return F(a) + b; }
inline F operator-(float a, F b) { return F(a) - b; }
inline F operator*(float a, F b) { return F(a) * b; }
inline F operator/(float a, F b) { return F(a) / b; }
inline Mask operator>(F a, F b) { return Mask{_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline Mask operator<(F a, F b) { return Mask{_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline Mask operator==(F a, F b) { return Mask{_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }

inline F sqrt_rn(F a) { return F(_mm512_sqrt_ps(a.v)); }
inline F if_then_else(Mask m, F a, F b) { return F(_mm512_mask_blend_ps(m.m, b.v, a.v)); }
inline Mask and_not(Mask a, Mask b) { return Mask{static_cast<__mmask16>(a.m & ~b.m)}; }
inline Mask is_finite_bits(F x) {
    const __m512i exponent = _mm512_set1_epi32(0x7F800000);
    const __m512i field = _mm512_and_si512(_mm512_castps_si512(x.v), exponent);
    return Mask{_mm512_cmpneq_epi32_mask(field, exponent)};
}

// 16 bf16 from fp32 lanes: round to nearest even, NaN as 0x7FFF (as float_to_bf16_bits).
inline __m256i to_bf16(F x) {
    const __m512i u = _mm512_castps_si512(x.v);
    const __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                                  _mm512_set1_epi32(0x7F800000));
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(kCanonicalNaN16));
    return _mm512_cvtepi32_epi16(r);
}

// 16 fp16: the hardware conversion, exact but for NaN payloads, which become 0x7FFF.
inline __m256i to_f16(F x) {
    const __m256i h = _mm512_cvtps_ph(x.v, _MM_FROUND_TO_NEAREST_INT);
    const __mmask16 nan = _mm512_cmp_ps_mask(x.v, x.v, _CMP_UNORD_Q);
    return _mm256_mask_mov_epi16(h, nan, _mm256_set1_epi16(static_cast<short>(kCanonicalNaN16)));
}

struct Lanes {
    static constexpr int kWidth = 16;
    using F = BNB_AVX512_LANES_NAMESPACE::F;
    using Mask = BNB_AVX512_LANES_NAMESPACE::Mask;

    static F load(const float* src) { return F(_mm512_loadu_ps(src)); }
    static F load(const bf16_t* src) {
        const __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)));
        return F(_mm512_castsi512_ps(_mm512_slli_epi32(h, 16)));
    }
    // The hardware conversion sets a NaN's quiet bit; the scalar conversion keeps the bits: rebuild them.
    static F load(const f16_t* src) {
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
        const __m512i w = _mm512_cvtepu16_epi32(h);
        const __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(w, _mm512_set1_epi32(0x7FFF)),
                                                      _mm512_set1_epi32(0x7C00));
        const __m512i exact = _mm512_or_si512(
            _mm512_slli_epi32(_mm512_and_si512(w, _mm512_set1_epi32(0x8000)), 16),
            _mm512_or_si512(_mm512_set1_epi32(0x7F800000), _mm512_slli_epi32(_mm512_and_si512(w, _mm512_set1_epi32(0x3FF)), 13)));
        return F(_mm512_mask_mov_ps(_mm512_cvtph_ps(h), nan, _mm512_castsi512_ps(exact)));
    }
    static void store(float* dst, F x) { _mm512_storeu_ps(dst, x.v); }
    static void store(bf16_t* dst, F x) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), to_bf16(x)); }
    static void store(f16_t* dst, F x) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), to_f16(x)); }
    static void store_applied(float* dst, Mask applied, F x) { _mm512_mask_storeu_ps(dst, applied.m, x.v); }
    static void store_applied(bf16_t* dst, Mask applied, F x) { _mm256_mask_storeu_epi16(dst, applied.m, to_bf16(x)); }
    static void store_applied(f16_t* dst, Mask applied, F x) { _mm256_mask_storeu_epi16(dst, applied.m, to_f16(x)); }

    static int count(Mask m) { return __builtin_popcount(static_cast<unsigned>(m.m)); }
    static Mask all() { return Mask{static_cast<__mmask16>(0xFFFF)}; }
    static bool all_set(Mask m) { return m.m == 0xFFFF; }
    static Mask first_lanes(int n) { return Mask{static_cast<__mmask16>((1u << n) - 1u)}; }
    static Mask not_finite(F x) { return Mask{static_cast<__mmask16>(~is_finite_bits(x).m)}; }
    static F keep(Mask m, F x) { return F(_mm512_maskz_mov_ps(m.m, x.v)); }
    // max(|s|, running) per lane: a NaN s leaves running as absmax_accumulate does.
    static F running_absmax(F running, F s) { return F(_mm512_max_ps(_mm512_abs_ps(s.v), running.v)); }
    static float lanes_absmax(F running) {
        alignas(64) float lanes[kWidth];
        _mm512_store_ps(lanes, running.v);
        float a = 0.0f;
        for (float x : lanes) a = absmax_accumulate(a, x);
        return a;
    }

    static void dequantize_block(const QuantTables& q, const uint8_t* codes, int n, float absmax, float* out) {
        if (absmax == 0.0f) {
            for (int i = 0; i < n; i += kWidth) _mm512_storeu_ps(out + i, _mm512_setzero_ps());
            return;
        }
        for (int i = 0; i < n; i += kWidth) store(out + i, dequantize(q, codes + i, F(absmax)));
    }
    // map[codes[k]] * absmax for the 16 lanes, absmax != 0.
    static F dequantize(const QuantTables& q, const uint8_t* codes, F absmax) {
        const __m512i index = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)));
        return F(_mm512_mul_ps(_mm512_i32gather_ps(index, q.values, 4), absmax.v));
    }

    static void quantize_block(const QuantTables& q, const SelectTable* table, const float* s, int n,
                               const BlockScale& scale, uint8_t* codes) {
        if (scale.zero) {
            std::memset(codes, q.zero_code, static_cast<size_t>(n));
            return;
        }
        if (table == nullptr || !(scale.r > 0.0f)) {
            for (int i = 0; i < n; ++i) codes[i] = quantize_value(q, s[i], scale);
            return;
        }
        const __m512 r = _mm512_set1_ps(scale.r);
        const __m512i low_bits = _mm512_set1_epi32(0xFFFF);
        for (int i = 0; i < n; i += kWidth) {
            const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(s + i), r);
            const __m512i bits = _mm512_castps_si512(x);
            const __m512i entry = _mm512_i32gather_epi32(_mm512_srli_epi32(bits, 16), table->entry, 4);
            const __m512i low = _mm512_and_si512(_mm512_xor_si512(bits, _mm512_srai_epi32(bits, 31)), low_bits);
            const __mmask16 rise = _mm512_cmpgt_epi32_mask(low, _mm512_srli_epi32(entry, 16));
            const __m512i c = _mm512_mask_add_epi32(entry, rise, entry, _mm512_set1_epi32(1));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtepi32_epi8(c));  // low bytes
        }
    }
};

}  // namespace BNB_AVX512_LANES_NAMESPACE
}  // namespace cpu
}  // namespace bnb
