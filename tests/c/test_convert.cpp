// fp16/bf16 <-> fp32 conversions of the shared rules (ALGORITHMS.md §1.4, G13): loads are exact for all
// 65536 patterns of each format; stores round to nearest even, overflow to +-Inf and write NaN as 0x7FFF,
// checked against the double-arithmetic reference of the test support library on every float of the
// binades where 16-bit rounding has special cases, and a stride over all 2^32 patterns.
#include <cmath>
#include <cstdint>
#include <limits>

extern "C" {
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "support/test_util.h"
}

#include "core/rules/convert.hpp"

namespace {

void check_store(uint32_t pattern) {
    const float x = bnb::bits_to_float(pattern);
    const uint16_t h = bnb::float_to_f16_bits(x);
    const uint16_t b = bnb::float_to_bf16_bits(x);
    const uint16_t want_h = dtype_bits16(static_cast<double>(x), BNB_DTYPE_F16);
    const uint16_t want_b = dtype_bits16(static_cast<double>(x), BNB_DTYPE_BF16);
    if (h != want_h) fail_msg("f16(%a) = %04x, reference %04x", static_cast<double>(x), h, want_h);
    if (b != want_b) fail_msg("bf16(%a) = %04x, reference %04x", static_cast<double>(x), b, want_b);
}

void loads_are_exact(void**) {
    for (uint32_t p = 0; p < 65536; ++p) {
        const double want_h = bits16_value(static_cast<uint16_t>(p), BNB_DTYPE_F16);
        const double want_b = bits16_value(static_cast<uint16_t>(p), BNB_DTYPE_BF16);
        const float h = bnb::f16_bits_to_float(static_cast<uint16_t>(p));
        const float b = bnb::bf16_bits_to_float(static_cast<uint16_t>(p));
        if (std::isnan(want_h)) assert_true(std::isnan(h));
        else assert_true(static_cast<double>(h) == want_h && std::signbit(h) == std::signbit(want_h));
        if (std::isnan(want_b)) assert_true(std::isnan(b));
        else assert_true(static_cast<double>(b) == want_b && std::signbit(b) == std::signbit(want_b));
    }
}

void stores_round_to_nearest_even(void**) {
    // Every float from 2^-26 (below half the smallest fp16 subnormal) to 2^-13 (past the smallest normal),
    // and from 2^15 to 2^17 (fp16 overflow), both signs.
    const uint32_t ranges[][2] = {{0x32800000u, 0x39000000u}, {0x47000000u, 0x48000000u}};
    for (const auto& range : ranges) {
        for (uint32_t p = range[0]; p < range[1]; ++p) {
            check_store(p);
            check_store(p | 0x80000000u);
        }
    }
    // bf16 overflow region and the largest finite floats.
    for (uint32_t p = 0x7F7F0000u; p <= 0x7F800000u; ++p) check_store(p);
    for (uint64_t p = 0; p < (1ull << 32); p += 61) check_store(static_cast<uint32_t>(p));
}

void special_values(void**) {
    const float inf = std::numeric_limits<float>::infinity();
    assert_int_equal(bnb::float_to_f16_bits(65504.0f), 0x7BFF);
    assert_int_equal(bnb::float_to_f16_bits(65519.996f), 0x7BFF);
    assert_int_equal(bnb::float_to_f16_bits(65520.0f), 0x7C00); // the tie goes to Inf
    assert_int_equal(bnb::float_to_f16_bits(-1e6f), 0xFC00);
    assert_int_equal(bnb::float_to_f16_bits(inf), 0x7C00);
    assert_int_equal(bnb::float_to_f16_bits(std::nanf("")), 0x7FFF);
    assert_int_equal(bnb::float_to_f16_bits(-std::nanf("")), 0x7FFF);
    assert_int_equal(bnb::float_to_f16_bits(-0.0f), 0x8000);
    assert_int_equal(bnb::float_to_f16_bits(std::ldexp(1.0f, -25)), 0x0000);     // tie to even: 0
    assert_int_equal(bnb::float_to_f16_bits(std::ldexp(1.5f, -25)), 0x0001);
    assert_int_equal(bnb::float_to_f16_bits(std::ldexp(3.0f, -25)), 0x0002);     // 1.5 units: tie to even 2
    assert_int_equal(bnb::float_to_bf16_bits(std::nanf("")), 0x7FFF);
    assert_int_equal(bnb::float_to_bf16_bits(-inf), 0xFF80);
    assert_int_equal(bnb::float_to_bf16_bits(bnb::bits_to_float(0x3F808000u)), 0x3F80); // tie to even
    assert_int_equal(bnb::float_to_bf16_bits(bnb::bits_to_float(0x3F818000u)), 0x3F82);
    assert_int_equal(bnb::float_to_bf16_bits(bnb::bits_to_float(0x7F7FFFFFu)), 0x7F80); // rounds up to Inf
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_are_exact),
        cmocka_unit_test(stores_round_to_nearest_even),
        cmocka_unit_test(special_values),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
