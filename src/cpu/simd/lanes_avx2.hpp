// The AVX2 lane policy: 8 fp32 lanes per vector, for the rules (lane_ops.hpp) and the block driver.
// Included only by kernels_avx2.cpp, which is compiled with -mavx2 -mf16c and without -mfma, so no
// instruction can fuse a multiply and an add: every lane does the float rule's operations exactly.
// Table lookups use scalar loads inserted into vectors: on Zen 3, AVX2 gathers cost about 11 cycles
// for 8 lanes, the inserts about half (measured; bench/README.md).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "cpu/select_table.hpp"
#include "rules/convert.hpp"
#include "rules/element.hpp"
#include "rules/quant.hpp"

namespace bnb {
namespace cpu {
namespace avx2 {

struct F {
    __m256 v;
    F() = default;
    explicit F(__m256 x) : v(x) {}
    explicit F(float x) : v(_mm256_set1_ps(x)) {}
};
struct Mask {
    __m256 v;  // all ones or all zeros per lane
};

inline F operator+(F a, F b) { return F(_mm256_add_ps(a.v, b.v)); }
inline F operator-(F a, F b) { return F(_mm256_sub_ps(a.v, b.v)); }
inline F operator*(F a, F b) { return F(_mm256_mul_ps(a.v, b.v)); }
inline F operator/(F a, F b) { return F(_mm256_div_ps(a.v, b.v)); }
inline F operator+(F a, float b) { return a + F(b); }
inline F operator-(F a, float b) { return a - F(b); }
inline F operator*(F a, float b) { return a * F(b); }
inline F operator/(F a, float b) { return a / F(b); }
inline F operator+(float a, F b) { return F(a) + b; }
inline F operator-(float a, F b) { return F(a) - b; }
inline F operator*(float a, F b) { return F(a) * b; }
inline F operator/(float a, F b) { return F(a) / b; }
// Ordered, quiet comparisons: false for NaN, as the float operators.
inline Mask operator>(F a, F b) { return Mask{_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
inline Mask operator<(F a, F b) { return Mask{_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline Mask operator==(F a, F b) { return Mask{_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)}; }

inline F sqrt_rn(F a) { return F(_mm256_sqrt_ps(a.v)); }
inline F if_then_else(Mask m, F a, F b) { return F(_mm256_blendv_ps(b.v, a.v, m.v)); }
inline Mask and_not(Mask a, Mask b) { return Mask{_mm256_andnot_ps(b.v, a.v)}; }
inline Mask both(Mask a, Mask b) { return Mask{_mm256_and_ps(a.v, b.v)}; }
inline Mask not_mask(Mask a) { return Mask{_mm256_xor_ps(a.v, _mm256_castsi256_ps(_mm256_set1_epi32(-1)))}; }
// |x| < 2^64 on the magnitude bits, as the float is_usable_bits (rules/element.hpp).
inline Mask is_usable_bits(F x) {
    const __m256i magnitude = _mm256_and_si256(_mm256_castps_si256(x.v), _mm256_set1_epi32(0x7FFFFFFF));
    return Mask{_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(kUsableMagnitudeLimitBits)), magnitude))};
}
inline Mask is_finite_bits(F x) {
    const __m256 exponent = _mm256_castsi256_ps(_mm256_set1_epi32(0x7F800000));
    // x's exponent field, read as a float, is +Inf exactly when x is Inf or NaN.
    return Mask{_mm256_cmp_ps(_mm256_and_ps(x.v, exponent), exponent, _CMP_NEQ_UQ)};
}

// 8 bf16 (16-bit lanes) from fp32 lanes: round to nearest even on the dropped bits, NaN as 0x7FFF.
inline __m128i to_bf16(F x) {
    const __m256i u = _mm256_castps_si256(x.v);
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF)),
                                           _mm256_set1_epi32(0x7F800000));
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
    r = _mm256_blendv_epi8(r, _mm256_set1_epi32(kCanonicalNaN16), nan);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08));
}

// 8 fp16: F16C rounds to nearest even, overflows to Inf and makes subnormals exactly as the scalar
// conversion; only NaN differs (F16C keeps a payload), so NaN lanes become 0x7FFF.
inline __m128i to_f16(F x) {
    const __m128i h = _mm256_cvtps_ph(x.v, _MM_FROUND_TO_NEAREST_INT);
    const __m256i nan32 = _mm256_castps_si256(_mm256_cmp_ps(x.v, x.v, _CMP_UNORD_Q));
    const __m128i nan16 = _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packs_epi32(nan32, nan32), 0x08));
    return _mm_blendv_epi8(h, _mm_set1_epi16(static_cast<short>(kCanonicalNaN16)), nan16);
}

// 16-bit lane mask from fp32 lanes.
inline __m128i mask16(Mask m) {
    const __m256i m32 = _mm256_castps_si256(m.v);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packs_epi32(m32, m32), 0x08));
}

// Table lookups: 8 entries of a 32-bit table, one scalar load per index (by 8 codes, or by the top
// halves of 8 floats, read as 16-bit words). Measured in the kernel: faster than vpgatherdd, and than
// indices cut out of one 64-bit load with shifts (those compete with the kernel's integer work).
// table[index(k)] for k = 0..7, inserted lane by lane.
template <class Index>
inline __m256i lookup8(const int32_t* table, Index index) {
    __m128i a = _mm_cvtsi32_si128(table[index(0)]);
    a = _mm_insert_epi32(a, table[index(1)], 1);
    a = _mm_insert_epi32(a, table[index(2)], 2);
    a = _mm_insert_epi32(a, table[index(3)], 3);
    __m128i b = _mm_cvtsi32_si128(table[index(4)]);
    b = _mm_insert_epi32(b, table[index(5)], 1);
    b = _mm_insert_epi32(b, table[index(6)], 2);
    b = _mm_insert_epi32(b, table[index(7)], 3);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);
}

inline __m256i lookup_bytes(const int32_t* table, const uint8_t* codes) {
    return lookup8(table, [codes](int k) { return codes[k]; });
}

inline __m256i lookup_tops(const int32_t* table, const float* x) {
    // The top half of x[k] is the 16-bit word at index 2k + 1 (little endian): one load per index.
    uint16_t words[16];
    std::memcpy(words, x, sizeof words);
    return lookup8(table, [&words](int k) { return words[2 * k + 1]; });
}

struct Lanes {
    static constexpr int kWidth = 8;
    using F = avx2::F;
    using Mask = avx2::Mask;

    static F load(const float* src) { return F(_mm256_loadu_ps(src)); }
    static F load(const bf16_t* src) {
        const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
        return F(_mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
    }
    // F16C converts exactly; a NaN gets its quiet bit set, which the scalar conversion does not do, so
    // NaN lanes are rebuilt bit for bit.
    static F load(const f16_t* src) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
        const __m256i w = _mm256_cvtepu16_epi32(h);
        const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(w, _mm256_set1_epi32(0x7FFF)), _mm256_set1_epi32(0x7C00));
        const __m256i exact = _mm256_or_si256(
            _mm256_slli_epi32(_mm256_and_si256(w, _mm256_set1_epi32(0x8000)), 16),
            _mm256_or_si256(_mm256_set1_epi32(0x7F800000), _mm256_slli_epi32(_mm256_and_si256(w, _mm256_set1_epi32(0x3FF)), 13)));
        return F(_mm256_blendv_ps(_mm256_cvtph_ps(h), _mm256_castsi256_ps(exact), _mm256_castsi256_ps(nan)));
    }
    static void store(float* dst, F x) { _mm256_storeu_ps(dst, x.v); }
    static void store(bf16_t* dst, F x) { _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), to_bf16(x)); }
    static void store(f16_t* dst, F x) { _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), to_f16(x)); }
    static void store_applied(float* dst, Mask applied, F x) {
        _mm256_storeu_ps(dst, _mm256_blendv_ps(_mm256_loadu_ps(dst), x.v, applied.v));
    }
    static void store_applied(bf16_t* dst, Mask applied, F x) { store_applied16(dst, applied, to_bf16(x)); }
    static void store_applied(f16_t* dst, Mask applied, F x) { store_applied16(dst, applied, to_f16(x)); }

    static int count(Mask m) { return __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(m.v))); }
    static Mask all() { return Mask{_mm256_castsi256_ps(_mm256_set1_epi32(-1))}; }
    static bool all_set(Mask m) { return _mm256_movemask_ps(m.v) == 0xFF; }
    static Mask first_lanes(int n) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        return Mask{_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane))};
    }
    static Mask not_finite(F x) { return and_not(all(), is_finite_bits(x)); }
    static F keep(Mask m, F x) { return F(_mm256_and_ps(m.v, x.v)); }
    // max(|s|, running) per lane, which ignores a NaN s as absmax_accumulate does.
    static F running_absmax(F running, F s) {
        const __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), s.v);
        return F(_mm256_max_ps(magnitude, running.v));
    }
    static float lanes_absmax(F running) {
        alignas(32) float lanes[kWidth];
        _mm256_store_ps(lanes, running.v);
        float a = 0.0f;
        for (float x : lanes) a = absmax_accumulate(a, x);
        return a;
    }

    // out[i] = map[codes[i]] * absmax (+0.0 when absmax is 0) for n (a multiple of 8) codes.
    static constexpr bool kDequantizeBlocks = false;  // the block driver dequantizes in the lanes
    static void dequantize_block(const QuantTables& q, const SelectTable*, const uint8_t* codes, int n, float absmax,
                                 float* out) {
        if (absmax == 0.0f) {
            for (int i = 0; i < n; i += kWidth) _mm256_storeu_ps(out + i, _mm256_setzero_ps());
            return;
        }
        for (int i = 0; i < n; i += kWidth) store(out + i, dequantize(q, codes + i, F(absmax)));
    }
    // map[codes[k]] * absmax for the 8 lanes, absmax != 0.
    static F dequantize(const QuantTables& q, const uint8_t* codes, F absmax) {
        const __m256i v = lookup_bytes(reinterpret_cast<const int32_t*>(q.values), codes);
        return F(_mm256_mul_ps(_mm256_castsi256_ps(v), absmax.v));
    }

    // codes[i] = quantize_value(q, s[i], scale) for n (a multiple of 8) values of one block (|s| <= absmax
    // or NaN), through the select table (Note [lane select table]) when there is one and r > 0.
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
        // x = s * r first, so the lookup indices are the top halves of x, read from memory.
        alignas(32) float x[kBlockSize];
        const __m256 r = _mm256_set1_ps(scale.r);
        for (int i = 0; i < n; i += kWidth) _mm256_store_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(s + i), r));
        const int32_t* entries = reinterpret_cast<const int32_t*>(table->entry);

        const __m256i low_bits = _mm256_set1_epi32(0xFFFF);
        // 8 codes in the low bytes of 32-bit lanes (higher bits hold the table's rise position).
        const auto select8 = [&](int i) {
            const __m256i bits = _mm256_load_si256(reinterpret_cast<const __m256i*>(x + i));
            const __m256i entry = lookup_tops(entries, x + i);
            // Position in the bucket in increasing value order: complemented low half for negative x.
            const __m256i low = _mm256_and_si256(_mm256_xor_si256(bits, _mm256_srai_epi32(bits, 31)), low_bits);
            // entry - (low > t ? -1 : 0): the low byte becomes c0 or c0 + 1.
            return _mm256_sub_epi32(entry, _mm256_cmpgt_epi32(low, _mm256_srli_epi32(entry, 16)));
        };
        const __m256i byte = _mm256_set1_epi32(0xFF);
        int i = 0;
        for (; i + 4 * kWidth <= n; i += 4 * kWidth) {  // 32 codes: pack twice, then undo the lane interleave
            const __m256i c01 = _mm256_packus_epi32(_mm256_and_si256(select8(i), byte),
                                                    _mm256_and_si256(select8(i + 8), byte));
            const __m256i c23 = _mm256_packus_epi32(_mm256_and_si256(select8(i + 16), byte),
                                                    _mm256_and_si256(select8(i + 24), byte));
            const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
            const __m256i packed = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(c01, c23), order);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i), packed);
        }
        const __m256i low_bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                   0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
        for (; i < n; i += kWidth) {  // the rest of a short block, 8 codes at a time
            const __m256i bytes = _mm256_shuffle_epi8(select8(i), low_bytes);
            const uint32_t half0 = static_cast<uint32_t>(_mm256_extract_epi32(bytes, 0));
            const uint32_t half1 = static_cast<uint32_t>(_mm256_extract_epi32(bytes, 4));
            const uint64_t eight = half0 | static_cast<uint64_t>(half1) << 32;
            std::memcpy(codes + i, &eight, sizeof eight);
        }
    }

private:
    template <class T>
    static void store_applied16(T* dst, Mask applied, __m128i fresh) {
        __m128i* p = reinterpret_cast<__m128i*>(dst);
        _mm_storeu_si128(p, _mm_blendv_epi8(_mm_loadu_si128(p), fresh, mask16(applied)));
    }
};

}  // namespace avx2
}  // namespace cpu
}  // namespace bnb
