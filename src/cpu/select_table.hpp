// Note [lane select table]: the vectorized code selection. The select rule of ALGORITHMS.md §4.3 plus the
// signed map's sign fix is, for x = s * r with r > 0, a non-decreasing step function of x. Cut the float
// line into buckets of 2^16 consecutive bit patterns (the top 16 bits of x: sign, exponent, 7 mantissa
// bits); for the built-in maps, and every map whose midpoints are at least one bucket apart, the code
// rises at most once inside a bucket. Then one 32-bit entry per bucket gives the code exactly:
//   entry = c0 | t << 16,  code = c0 + (low(x) > t)
// where low(x) is x's position in its bucket in increasing value order (the low 16 bits, complemented
// for negative x) and t = 0xFFFF when the code does not rise. One table load and five integer
// operations replace the binary search, with no branch. The sign fix is folded in, which needs
// sign(x) == sign(s): true for r > 0. The buckets with the Inf/NaN exponent hold code 0, NaN's code:
// the lanes never see an infinite x, because a block with an infinite state has absmax +Inf, so r == 0,
// and takes quantize_value() instead; with finite states |x| = |s| * fl(1/A) <= 1 + 2^-23.
// The table is built from select_code() itself (the endpoints of each bucket, and a binary search for
// the rise), so it agrees with the scalar rule by construction; test_cpu_dispatch checks every float.
#pragma once

#include <cstdint>

#include "rules/quant.hpp"

namespace bnb {
namespace cpu {

constexpr int kSelectBuckets = 1 << 16;

// Note [compact select table]: the lanes only see |x| <= 1 + 2^-23 or NaN, and below the map's smallest
// midpoints every bucket of one sign holds the same entry, as does every bucket with |x| >= 2. So the
// buckets of |top(x)| in [compact_lo, compact_hi] (top: the top 16 bits without the sign) are all that
// differ: with |top| clamped into that range, one entry per bucket and sign gives the same code for
// every finite x, from a table of tens of KiB (L1) instead of 256 KiB (L2). NaN clamps to the top
// bucket and takes nan_code by a blend. The build checks the constant ranges from the full table itself,
// so the compact lookup agrees with it (and select_code()) by construction; test_cpu_dispatch checks
// every float.
constexpr int kCompactHalfCapacity = 4096;  // buckets per sign: 32 binades, 16 KiB

struct SelectTable {
    uint32_t entry[kSelectBuckets];
    // The compact table: compact[(clamp(|top|) - compact_lo) + (x < 0 ? compact_half : 0)]; empty when
    // the map needs more than kCompactHalfCapacity buckets per sign (then the lanes use `entry`).
    bool has_compact;
    uint32_t compact_lo, compact_hi, compact_half;
    uint32_t nan_code;
    alignas(64) uint32_t compact[2 * kCompactHalfCapacity];
    // The map's values as four byte planes (byte k of values[c] is planes[k][c]), for the byte-permute
    // dequantization of the VBMI lanes.
    alignas(64) uint8_t planes[4][kMapSize];
};

// The scalar form of the lane computation, for a finite or NaN x (tests check the table with it).
inline uint8_t select_with_table(const SelectTable& t, float x) {
    const uint32_t bits = float_to_bits(x);
    const uint32_t e = t.entry[bits >> 16];
    const uint32_t low = (bits ^ (0u - (bits >> 31))) & 0xFFFFu;
    return static_cast<uint8_t>((e & 0xFFu) + (low > (e >> 16) ? 1u : 0u));
}

// The compact table's form of the same computation (has_compact must be set).
inline uint8_t select_with_compact_table(const SelectTable& t, float x) {
    const uint32_t bits = float_to_bits(x);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint8_t>(t.nan_code);
    uint32_t top = (bits & 0x7FFFFFFFu) >> 16;
    top = top < t.compact_lo ? t.compact_lo : top > t.compact_hi ? t.compact_hi : top;
    const uint32_t e = t.compact[top - t.compact_lo + ((bits >> 31) ? t.compact_half : 0u)];
    const uint32_t low = (bits ^ (0u - (bits >> 31))) & 0xFFFFu;
    return static_cast<uint8_t>((e & 0xFFu) + (low > (e >> 16) ? 1u : 0u));
}

// The table of map q (cached by the map's contents, built at first use), or nullptr when the map has a
// bucket in which the code rises twice, or too many distinct maps are cached: then the kernels select
// each element with quantize_value(). Thread-safe.
const SelectTable* select_table_for(const QuantTables& q);

}  // namespace cpu
}  // namespace bnb
