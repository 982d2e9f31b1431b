// The AVX-512 lane policy: 16 fp32 lanes per vector, mask registers for lane selection and masked
// stores. Included by kernels_avx512.cpp (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl) and,
// with BNB_AVX512_LANES_VBMI defined, by kernels_avx512_vbmi.cpp (also -mavx512vbmi); -ffp-contract=off
// keeps multiplies and adds separate, and no FMA intrinsic is used. Each operation is the IEEE operation
// the float rule performs, lane by lane.
// Table lookups (Note [AVX-512 lookups]): codes are selected from the compact select table (L1) by
// scalar loads inserted into vectors; the VBMI lanes dequantize whole blocks by byte permutes of the map
// held in registers, the plain lanes by inserts from the 1 KiB map.
// A test also compiles these lanes on SIMDe's portable AVX-512 (BNB_AVX512_LANES_EMULATED,
// tests/c/emulated/), so their logic is checked on machines without AVX-512; that build names its
// namespaces avx512_emulated and avx512_vbmi_emulated, so its instantiations never clash with the real ones.
#pragma once

#if defined(BNB_AVX512_LANES_EMULATED) && defined(BNB_AVX512_LANES_VBMI)
#define BNB_AVX512_LANES_NAMESPACE avx512_vbmi_emulated  // the includer brings the emulated intrinsics
#elif defined(BNB_AVX512_LANES_EMULATED)
#define BNB_AVX512_LANES_NAMESPACE avx512_emulated
#elif defined(BNB_AVX512_LANES_VBMI)
#include <immintrin.h>
#define BNB_AVX512_LANES_NAMESPACE avx512_vbmi
#else
#include <immintrin.h>
#define BNB_AVX512_LANES_NAMESPACE avx512
#endif
#if defined(BNB_AVX512_LANES_VBMI)
#define BNB_AVX512_LANES_HAVE_VBMI 1
#else
#define BNB_AVX512_LANES_HAVE_VBMI 0
#endif

#include <cstdint>
#include <cstring>

#include "cpu/select_table.hpp"
#include "rules/convert.hpp"
#include "rules/element.hpp"
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
inline Mask both(Mask a, Mask b) { return Mask{static_cast<__mmask16>(a.m & b.m)}; }
inline Mask not_mask(Mask a) { return Mask{static_cast<__mmask16>(~a.m)}; }
// |x| < 2^64 on the magnitude bits, as the float is_usable_bits (rules/element.hpp).
inline Mask is_usable_bits(F x) {
    const __m512i magnitude = _mm512_and_si512(_mm512_castps_si512(x.v), _mm512_set1_epi32(0x7FFFFFFF));
    return Mask{_mm512_cmpgt_epi32_mask(_mm512_set1_epi32(static_cast<int>(kUsableMagnitudeLimitBits)), magnitude)};
}
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

// table[index(k)] for k = 0..15: scalar loads inserted into vectors. On Zen 5 these cost about half
// of what vpgatherdd does, even from L1 (bench/README.md). Returned through `out`: a 64-byte vector
// return value would change the ABI of the emulated build (compiled without AVX-512).
template <class Index>
inline void lookup16(const int32_t* table, Index index, __m512i* out) {
    __m128i q[4];
    for (int part = 0; part < 4; ++part) {
        __m128i v = _mm_cvtsi32_si128(table[index(4 * part)]);
        v = _mm_insert_epi32(v, table[index(4 * part + 1)], 1);
        v = _mm_insert_epi32(v, table[index(4 * part + 2)], 2);
        v = _mm_insert_epi32(v, table[index(4 * part + 3)], 3);
        q[part] = v;
    }
    const __m256i low = _mm256_inserti128_si256(_mm256_castsi128_si256(q[0]), q[1], 1);
    const __m256i high = _mm256_inserti128_si256(_mm256_castsi128_si256(q[2]), q[3], 1);
    *out = _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
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

    // Note [AVX-512 lookups]: measured on Zen 5 (bench/README.md), gathers from the 256 KiB select table
    // (L2) made these lanes slower than AVX2's inserts. Codes now come from the compact table (Note
    // [compact select table], L1). The VBMI lanes dequantize a block 64 codes at a time: each byte plane
    // of the map (256 bytes, four registers) is two 128-entry byte permutes (vpermi2b) and a blend on
    // the code's top bit; the four planes' bytes are interleaved into the fp32 values by unpacks, with
    // the codes permuted first so that the unpacks' in-lane order comes out in code order.
    static constexpr bool kDequantizeBlocks = BNB_AVX512_LANES_HAVE_VBMI != 0;

    // out[i] = map[codes[i]] * absmax (+0.0 when absmax is 0) for n (a multiple of 16) codes.
    static void dequantize_block(const QuantTables& q, const SelectTable* table, const uint8_t* codes, int n,
                                 float absmax, float* out) {
        if (absmax == 0.0f) {
            for (int i = 0; i < n; i += kWidth) _mm512_storeu_ps(out + i, _mm512_setzero_ps());
            return;
        }
        int i = 0;
#if BNB_AVX512_LANES_HAVE_VBMI
        if (table != nullptr) {
            __m512i plane[4][4];
            for (int k = 0; k < 4; ++k) {
                for (int part = 0; part < 4; ++part) plane[k][part] = _mm512_loadu_si512(table->planes[k] + 64 * part);
            }
            // Position 16L + 4m + t of the permuted codes holds code 16m + 4L + t.
            alignas(64) static constexpr uint8_t kOrder[64] = {
                0, 1, 2, 3, 16, 17, 18, 19, 32, 33, 34, 35, 48, 49, 50, 51,
                4, 5, 6, 7, 20, 21, 22, 23, 36, 37, 38, 39, 52, 53, 54, 55,
                8, 9, 10, 11, 24, 25, 26, 27, 40, 41, 42, 43, 56, 57, 58, 59,
                12, 13, 14, 15, 28, 29, 30, 31, 44, 45, 46, 47, 60, 61, 62, 63};
            const __m512i order = _mm512_load_si512(kOrder);
            const __m512 scale = _mm512_set1_ps(absmax);
            for (; i + 64 <= n; i += 64) {
                const __m512i c = _mm512_permutexvar_epi8(order, _mm512_loadu_si512(codes + i));
                const __mmask64 high = _mm512_movepi8_mask(c);
                __m512i b[4];
                for (int k = 0; k < 4; ++k) {
                    b[k] = _mm512_mask_blend_epi8(high, _mm512_permutex2var_epi8(plane[k][0], c, plane[k][1]),
                                                  _mm512_permutex2var_epi8(plane[k][2], c, plane[k][3]));
                }
                const __m512i w01lo = _mm512_unpacklo_epi8(b[0], b[1]), w01hi = _mm512_unpackhi_epi8(b[0], b[1]);
                const __m512i w23lo = _mm512_unpacklo_epi8(b[2], b[3]), w23hi = _mm512_unpackhi_epi8(b[2], b[3]);
                const __m512i v[4] = {_mm512_unpacklo_epi16(w01lo, w23lo), _mm512_unpackhi_epi16(w01lo, w23lo),
                                      _mm512_unpacklo_epi16(w01hi, w23hi), _mm512_unpackhi_epi16(w01hi, w23hi)};
                for (int m = 0; m < 4; ++m) _mm512_storeu_ps(out + i + 16 * m, _mm512_mul_ps(_mm512_castsi512_ps(v[m]), scale));
            }
        }
#else
        (void)table;
#endif
        for (; i < n; i += kWidth) store(out + i, dequantize(q, codes + i, F(absmax)));
    }
    // map[codes[k]] * absmax for the 16 lanes, absmax != 0.
    static F dequantize(const QuantTables& q, const uint8_t* codes, F absmax) {
        __m512i v;
        lookup16(reinterpret_cast<const int32_t*>(q.values), [codes](int k) { return codes[k]; }, &v);
        return F(_mm512_mul_ps(_mm512_castsi512_ps(v), absmax.v));
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
        const __m512i one = _mm512_set1_epi32(1);
        if (table->has_compact) {  // Note [compact select table]
            // First x = s * r and each lane's compact index, into memory; then the entries by scalar loads
            // inserted into vectors (on Zen 5, vpgatherdd from L1 cost twice as much: bench/README.md).
            const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
            const __m512i lo = _mm512_set1_epi32(static_cast<int>(table->compact_lo));
            const __m512i hi = _mm512_set1_epi32(static_cast<int>(table->compact_hi));
            const __m512i half = _mm512_set1_epi32(static_cast<int>(table->compact_half));
            const __m512i nan_code = _mm512_set1_epi32(static_cast<int>(table->nan_code));
            alignas(64) float x[kBlockSize];
            alignas(64) uint16_t index[kBlockSize];
            for (int i = 0; i < n; i += kWidth) {
                const __m512 xv = _mm512_mul_ps(_mm512_loadu_ps(s + i), r);
                const __m512i bits = _mm512_castps_si512(xv);
                const __m512i top = _mm512_srli_epi32(_mm512_and_si512(bits, magnitude), 16);
                __m512i k = _mm512_sub_epi32(_mm512_min_epu32(_mm512_max_epu32(top, lo), hi), lo);
                k = _mm512_mask_add_epi32(k, _mm512_movepi32_mask(bits), k, half);
                _mm512_store_ps(x + i, xv);
                _mm256_store_si256(reinterpret_cast<__m256i*>(index + i), _mm512_cvtepi32_epi16(k));
            }
            const int32_t* entries = reinterpret_cast<const int32_t*>(table->compact);
            for (int i = 0; i < n; i += kWidth) {
                const __m512 xv = _mm512_load_ps(x + i);
                const __m512i bits = _mm512_castps_si512(xv);
                const uint16_t* at = index + i;
                __m512i entry;
                lookup16(entries, [at](int k) { return at[k]; }, &entry);
                const __m512i low = _mm512_and_si512(_mm512_xor_si512(bits, _mm512_srai_epi32(bits, 31)), low_bits);
                const __mmask16 rise = _mm512_cmpgt_epi32_mask(low, _mm512_srli_epi32(entry, 16));
                __m512i c = _mm512_mask_add_epi32(entry, rise, entry, one);
                c = _mm512_mask_mov_epi32(c, _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q), nan_code);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtepi32_epi8(c));  // low bytes
            }
            return;
        }
        for (int i = 0; i < n; i += kWidth) {
            const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(s + i), r);
            const __m512i bits = _mm512_castps_si512(x);
            const __m512i entry = _mm512_i32gather_epi32(_mm512_srli_epi32(bits, 16), table->entry, 4);
            const __m512i low = _mm512_and_si512(_mm512_xor_si512(bits, _mm512_srai_epi32(bits, 31)), low_bits);
            const __mmask16 rise = _mm512_cmpgt_epi32_mask(low, _mm512_srli_epi32(entry, 16));
            const __m512i c = _mm512_mask_add_epi32(entry, rise, entry, one);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtepi32_epi8(c));  // low bytes
        }
    }
};

}  // namespace BNB_AVX512_LANES_NAMESPACE
}  // namespace cpu
}  // namespace bnb
