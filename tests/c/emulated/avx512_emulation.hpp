// AVX-512 on any x86-64 or other machine, for tests: SIMDe's portable AVX-512 (Debian libsimde-dev)
// under the Intel names, plus the few intrinsics that SIMDe 0.7.4 lacks and the AVX-512 lanes use,
// written here lane by lane after Intel's definitions. Include before cpu/simd/lanes_avx512.hpp with
// BNB_AVX512_LANES_EMULATED defined. A newer SIMDe that provides one of the missing intrinsics wins:
// each fill-in is defined only when the Intel name is not yet a macro.
#pragma once

#if !defined(SIMDE_ENABLE_NATIVE_ALIASES)
#define SIMDE_ENABLE_NATIVE_ALIASES
#endif
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>

#include <cstdint>
#include <cstring>

typedef simde__mmask16 __mmask16;
typedef simde__mmask64 __mmask64;

namespace bnb_avx512_emulation {

// A vector's lanes as an array of T, and back (the SIMDe types are plain 64/32/16-byte values).
template <class T, class V>
void to_lanes(const V& v, T* lanes) {
    std::memcpy(lanes, &v, sizeof v);
}
template <class V, class T>
V from_lanes(const T* lanes) {
    V v;
    std::memcpy(&v, lanes, sizeof v);
    return v;
}

inline simde__m512i srai_epi32(simde__m512i a, int count) {
    int32_t x[16];
    to_lanes(a, x);
    const int n = count > 31 ? 31 : count;  // counts above 31 fill with the sign bit
    for (int32_t& lane : x) lane = lane < 0 ? ~(~lane >> n) : lane >> n;
    return from_lanes<simde__m512i>(x);
}

inline __mmask16 cmpneq_epi32_mask(simde__m512i a, simde__m512i b) {
    int32_t x[16], y[16];
    to_lanes(a, x);
    to_lanes(b, y);
    unsigned m = 0;
    for (int i = 0; i < 16; ++i) m |= (x[i] != y[i] ? 1u : 0u) << i;
    return static_cast<__mmask16>(m);
}

// Zero extension of 16 bytes / 16 words to 32-bit lanes.
template <class Narrow, class Wide>
simde__m512i zero_extend(Wide src) {
    Narrow x[16];
    to_lanes(src, x);
    uint32_t out[16];
    for (int i = 0; i < 16; ++i) out[i] = x[i];
    return from_lanes<simde__m512i>(out);
}

// Truncation of 32-bit lanes to their low 16 / 8 bits.
template <class Narrow, class Result>
Result truncate(simde__m512i a) {
    uint32_t x[16];
    to_lanes(a, x);
    Narrow out[sizeof(Result) / sizeof(Narrow)] = {};
    for (int i = 0; i < 16; ++i) out[i] = static_cast<Narrow>(x[i]);
    return from_lanes<Result>(out);
}

// out[i] = *(T*)((const char*)base + index[i] * scale).
template <class T, class Result>
Result gather(simde__m512i index, const void* base, int scale) {
    int32_t idx[16];
    to_lanes(index, idx);
    T out[16];
    for (int i = 0; i < 16; ++i) {
        std::memcpy(&out[i], static_cast<const char*>(base) + static_cast<int64_t>(idx[i]) * scale, sizeof(T));
    }
    return from_lanes<Result>(out);
}

// Stores the lanes whose mask bit is set; the other elements of memory are not touched.
template <class T, class V>
void mask_store(void* dst, __mmask16 mask, V v) {
    T x[16];
    to_lanes(v, x);
    for (int i = 0; i < 16; ++i) {
        if ((mask >> i) & 1u) std::memcpy(static_cast<char*>(dst) + i * sizeof(T), &x[i], sizeof(T));
    }
}

// The 16-lane fp16 conversions, each as SIMDe's two 8-lane F16C conversions.
inline simde__m512 cvtph_ps(simde__m256i h) {
    simde__m128i halves[2];
    to_lanes(h, halves);
    simde__m256 wide[2] = {simde_mm256_cvtph_ps(halves[0]), simde_mm256_cvtph_ps(halves[1])};
    return from_lanes<simde__m512>(wide);
}
inline simde__m256i cvtps_ph(simde__m512 x) {
    simde__m256 halves[2];
    to_lanes(x, halves);
    simde__m128i narrow[2] = {simde_mm256_cvtps_ph(halves[0], SIMDE_MM_FROUND_TO_NEAREST_INT),
                              simde_mm256_cvtps_ph(halves[1], SIMDE_MM_FROUND_TO_NEAREST_INT)};
    return from_lanes<simde__m256i>(narrow);
}

}  // namespace bnb_avx512_emulation

#if !defined(_mm512_srai_epi32)
#define _mm512_srai_epi32(a, count) bnb_avx512_emulation::srai_epi32((a), (count))
#endif
#if !defined(_mm512_cmpneq_epi32_mask)
#define _mm512_cmpneq_epi32_mask(a, b) bnb_avx512_emulation::cmpneq_epi32_mask((a), (b))
#endif
#if !defined(_mm512_cvtepu8_epi32)
#define _mm512_cvtepu8_epi32(a) bnb_avx512_emulation::zero_extend<uint8_t>(a)
#endif
#if !defined(_mm512_cvtepu16_epi32)
#define _mm512_cvtepu16_epi32(a) bnb_avx512_emulation::zero_extend<uint16_t>(a)
#endif
#if !defined(_mm512_cvtepi32_epi8)
#define _mm512_cvtepi32_epi8(a) bnb_avx512_emulation::truncate<uint8_t, simde__m128i>(a)
#endif
#if !defined(_mm512_cvtepi32_epi16)
#define _mm512_cvtepi32_epi16(a) bnb_avx512_emulation::truncate<uint16_t, simde__m256i>(a)
#endif
#if !defined(_mm512_i32gather_epi32)
#define _mm512_i32gather_epi32(index, base, scale) bnb_avx512_emulation::gather<int32_t, simde__m512i>((index), (base), (scale))
#endif
#if !defined(_mm512_i32gather_ps)
#define _mm512_i32gather_ps(index, base, scale) bnb_avx512_emulation::gather<float, simde__m512>((index), (base), (scale))
#endif
#if !defined(_mm512_mask_storeu_ps)
#define _mm512_mask_storeu_ps(dst, mask, v) bnb_avx512_emulation::mask_store<float>((dst), (mask), (v))
#endif
#if !defined(_mm256_mask_storeu_epi16)
#define _mm256_mask_storeu_epi16(dst, mask, v) bnb_avx512_emulation::mask_store<uint16_t>((dst), (mask), (v))
#endif
#if !defined(_mm512_cvtph_ps)
#define _mm512_cvtph_ps(h) bnb_avx512_emulation::cvtph_ps(h)
#endif
#if !defined(_mm512_cvtps_ph)
#define _mm512_cvtps_ph(x, rounding) bnb_avx512_emulation::cvtps_ph(x)  // round to nearest even only
#endif
