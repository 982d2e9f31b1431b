// The portable lane policy: one element per "vector", the shared scalar functions for everything. It is
// the fallback on every machine and the reference the vector policies must match bit for bit.
#pragma once

#include <cmath>
#include <cstdint>

#include "cpu/select_table.hpp"
#include "rules/convert.hpp"
#include "rules/element.hpp"
#include "rules/quant.hpp"

namespace bnb {
namespace cpu {
namespace scalar {

struct Lanes {
    static constexpr int kWidth = 1;
    using F = float;
    using Mask = bool;

    template <class T>
    static F load(const T* src) {
        return load_elem(*src);
    }
    template <class T>
    static void store(T* dst, F x) {
        *dst = store_elem<T>(x);
    }
    // dst = to_T(x) where `applied`; elsewhere dst keeps its bits.
    template <class T>
    static void store_applied(T* dst, Mask applied, F x) {
        if (applied) *dst = store_elem<T>(x);
    }
    static int count(Mask m) { return m ? 1 : 0; }
    static Mask all() { return true; }
    static bool all_set(Mask m) { return m; }
    static Mask first_lanes(int n) { return n > 0; }
    static Mask not_finite(F x) { return !is_finite_bits(x); }
    static F keep(Mask m, F x) { return m ? x : 0.0f; }
    static F running_absmax(F running, F s) { return absmax_accumulate(running, s); }
    static float lanes_absmax(F running) { return running; }

    static constexpr bool kDequantizeBlocks = false;  // the block driver dequantizes in the lanes
    static void dequantize_block(const QuantTables& q, const SelectTable*, const uint8_t* codes, int n, float absmax,
                                 float* out) {
        for (int i = 0; i < n; ++i) out[i] = bnb::dequantize(q, codes[i], absmax);
    }
    static F dequantize(const QuantTables& q, const uint8_t* codes, F absmax) { return bnb::dequantize(q, *codes, absmax); }
    static void quantize_block(const QuantTables& q, const SelectTable*, const float* s, int n, const BlockScale& scale,
                               uint8_t* codes) {
        for (int i = 0; i < n; ++i) codes[i] = quantize_value(q, s[i], scale);
    }
};

}  // namespace scalar
}  // namespace cpu
}  // namespace bnb
