// The quantization maps and the select rule (ALGORITHMS.md §2, §4; acceptance G9):
//  - both built-in tables equal a regeneration from their definition with exact FMA, and the same
//    regeneration without FMA differs in exactly the 42 signed / 31 unsigned entries the spec names
//    (so the comparison is sensitive);
//  - select_code gives the even index at every midpoint and the neighbours 1 ulp either side;
//  - the bucket table (Note [select lookup]) equals the binary search for every float in the window
//    and for a stride over all 2^32 patterns;
//  - special values, the sign fix and zero blocks; validation of loaded maps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

extern "C" {
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
}

#include "core/qmap.hpp"
#include "core/rules/quant.hpp"

using bnb::QuantMap;
using bnb::QuantTables;

namespace {

float f32(uint32_t bits) { return bnb::bits_to_float(bits); }
uint32_t bits(float x) { return bnb::float_to_bits(x); }

// bitsandbytes' create_dynamic_map, rebuilt from the spec's description. `fused` selects single-rounding
// FMAs in torch's fp32 linspace (what torch's compiled kernel does) or separate multiply and add.
std::vector<float> regenerate(bool is_signed, bool fused) {
    std::vector<float> values;
    for (int i = 0; i <= 6; ++i) {
        const float scale = static_cast<float>(std::pow(10.0, i - 6));
        const int m = is_signed ? (1 << i) : (1 << (i + 1));
        const float step = (1.0f - 0.1f) / static_cast<float>(m);
        std::vector<float> boundaries(static_cast<size_t>(m) + 1);
        for (int j = 0; j <= m; ++j) {
            const bool from_start = j < (m + 1) / 2;
            if (fused) {
                boundaries[j] = from_start ? std::fma(step, static_cast<float>(j), 0.1f)
                                           : std::fma(-step, static_cast<float>(m - j), 1.0f);
            } else {
                const float product_start = step * static_cast<float>(j);
                const float product_end = -step * static_cast<float>(m - j);
                boundaries[j] = from_start ? product_start + 0.1f : product_end + 1.0f;
            }
        }
        for (int k = 0; k < m; ++k) {
            const float u = (boundaries[k] + boundaries[k + 1]) / 2.0f;
            values.push_back(scale * u);
            if (is_signed) values.push_back(-(scale * u));
        }
    }
    values.push_back(0.0f);
    values.push_back(1.0f);
    std::sort(values.begin(), values.end());
    return values;
}

void maps_equal_their_definition(void**) {
    const uint32_t* tables[2] = {bnb::kQmapSignedBits, bnb::kQmapUnsignedBits};
    const int expected_changes_without_fma[2] = {42, 31};
    for (int k = 0; k < 2; ++k) {
        const std::vector<float> fused = regenerate(k == 0, true);
        const std::vector<float> unfused = regenerate(k == 0, false);
        assert_int_equal(fused.size(), 256);
        int changed = 0;
        for (int i = 0; i < 256; ++i) {
            if (bits(fused[i]) != tables[k][i]) fail_msg("map %d entry %d: regenerated %08x, table %08x", k, i, bits(fused[i]), tables[k][i]);
            changed += bits(unfused[i]) != tables[k][i];
        }
        assert_int_equal(changed, expected_changes_without_fma[k]);
    }
}

void map_landmarks(void**) {
    float s[256], u[256];
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_SIGNED, s), BNB_OK);
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_UNSIGNED, u), BNB_OK);
    assert_int_equal(bits(s[0]), 0xBF7E3333u);
    assert_int_equal(bits(s[126]), 0xB513A3B7u);
    assert_int_equal(bits(s[127]), 0u);
    assert_int_equal(bits(s[128]), 0x3513A3B7u);
    assert_int_equal(bits(s[255]), bits(1.0f));
    assert_int_equal(bits(u[0]), 0u);
    assert_int_equal(bits(u[1]), 0x34AE7BAAu);
    assert_int_equal(bits(u[255]), bits(1.0f));
    for (int i = 1; i < 256; ++i) {
        assert_true(s[i - 1] < s[i]);
        assert_true(u[i - 1] < u[i]);
    }
    const QuantTables ts = QuantMap::builtin(BNB_QMAP_SIGNED)->tables();
    const QuantTables tu = QuantMap::builtin(BNB_QMAP_UNSIGNED)->tables();
    assert_int_equal(ts.zero_code, 127);
    assert_int_equal(tu.zero_code, 0);
    assert_true(ts.is_signed && !tu.is_signed);
    assert_non_null(ts.lut); // the fast path is exact for both built-in maps
    assert_non_null(tu.lut);
}

QuantTables without_lut(QuantTables q) {
    q.lut = nullptr;
    return q;
}

void select_at_every_midpoint(void**) {
    for (bnb_qmap_kind kind : {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED}) {
        const QuantTables fast = QuantMap::builtin(kind)->tables();
        const QuantTables search = without_lut(fast);
        for (int j = 0; j < 255; ++j) {
            const float mid = (fast.values[j] + fast.values[j + 1]) * 0.5f;
            assert_int_equal(bits(mid), bits(fast.mid[j]));
            const int even = (j % 2 == 0) ? j : j + 1;
            const float below = std::nextafter(mid, -std::numeric_limits<float>::infinity());
            const float above = std::nextafter(mid, std::numeric_limits<float>::infinity());
            for (const QuantTables* q : {&fast, &search}) {
                assert_int_equal(bnb::select_code(*q, mid), even);
                assert_int_equal(bnb::select_code(*q, below), j);
                assert_int_equal(bnb::select_code(*q, above), j + 1);
                assert_int_equal(bnb::select_code(*q, fast.values[j]), j); // exact entries map to themselves
            }
        }
    }
}

void special_values_and_sign_fix(void**) {
    const QuantTables s = QuantMap::builtin(BNB_QMAP_SIGNED)->tables();
    const QuantTables u = QuantMap::builtin(BNB_QMAP_UNSIGNED)->tables();
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (const QuantTables* q : {&s, &u}) {
        for (const QuantTables& t : {*q, without_lut(*q)}) {
            assert_int_equal(bnb::select_code(t, nan), 0);
            assert_int_equal(bnb::select_code(t, -nan), 0);
            assert_int_equal(bnb::select_code(t, inf), 255);
            assert_int_equal(bnb::select_code(t, -inf), 0);
            assert_int_equal(bnb::select_code(t, 1.5f), 255);
            assert_int_equal(bnb::select_code(t, -1.5f), 0);
        }
    }
    const float a = 0.75f; // a block absmax
    const bnb::BlockScale scale = bnb::block_scale(a);
    assert_false(scale.zero);
    assert_int_equal(bnb::quantize_value(s, -0.0f, scale), 126);
    assert_int_equal(bnb::quantize_value(s, 0.0f, scale), 127);
    assert_int_equal(bnb::quantize_value(s, -1e-9f * a, scale), 126);
    assert_int_equal(bnb::quantize_value(s, 1e-9f * a, scale), 127);
    assert_int_equal(bnb::quantize_value(s, nan, scale), 0); // NaN: code 0, no sign fix
    assert_int_equal(bnb::quantize_value(s, a, scale), 255);
    assert_int_equal(bnb::quantize_value(s, -a, scale), 0);
    assert_int_equal(bnb::quantize_value(u, -0.0f, scale), 0); // never a sign fix on the unsigned map
    assert_int_equal(bnb::quantize_value(u, a, scale), 255);
    // Zero blocks: absmax 0 and every subnormal absmax store absmax 0 and the zero code.
    for (float zero_like : {0.0f, f32(0x00000001u), f32(0x007FFFFFu)}) {
        const bnb::BlockScale z = bnb::block_scale(zero_like);
        assert_true(z.zero);
        assert_true(z.absmax == 0.0f);
        assert_int_equal(bnb::quantize_value(s, zero_like, z), 127);
        assert_int_equal(bnb::quantize_value(s, -zero_like, z), 127);
        assert_int_equal(bnb::quantize_value(u, zero_like, z), 0);
    }
    assert_false(bnb::block_scale(f32(0x00800000u)).zero); // the smallest normal is a real block
    // Dequantize: +0.0 when absmax is 0, whatever the byte.
    assert_int_equal(bits(bnb::dequantize(s, 0, 0.0f)), 0u);
    assert_int_equal(bits(bnb::dequantize(s, 126, 0.0f)), 0u);
    assert_true(bnb::dequantize(s, 255, 2.0f) == 2.0f);
    // absmax ignores NaN.
    assert_true(bnb::absmax_accumulate(bnb::absmax_accumulate(0.0f, nan), -3.0f) == 3.0f);
    assert_true(bnb::absmax_accumulate(3.0f, nan) == 3.0f);
}

// The bucket table equals the binary search for every float in [2^-26, 4) of either sign, and for a
// stride over all bit patterns.
void lut_equals_search(void**) {
    for (bnb_qmap_kind kind : {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED}) {
        const QuantTables fast = QuantMap::builtin(kind)->tables();
        const uint32_t low = bits(std::ldexp(1.0f, -26)), high = bits(4.0f);
        for (uint32_t sign : {0u, 0x80000000u}) {
            for (uint32_t b = low; b < high; ++b) {
                const float x = f32(b | sign);
                const int got = bnb::count_midpoints_below_lut(fast, x);
                const int want = bnb::count_midpoints_below(fast.mid, x);
                if (got != want) fail_msg("kind %d x=%a: lut %d, search %d", kind, static_cast<double>(x), got, want);
            }
        }
        for (uint64_t b = 0; b < (1ull << 32); b += 4099) {
            const float x = f32(static_cast<uint32_t>(b));
            assert_int_equal(bnb::count_midpoints_below_lut(fast, x), bnb::count_midpoints_below(fast.mid, x));
        }
    }
}

void loaded_map_validation(void**) {
    float good[256];
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_SIGNED, good), BNB_OK);
    std::shared_ptr<const QuantMap> map;
    assert_true(QuantMap::create(good, BNB_QMAP_SIGNED, "m", &map).ok());
    float bad[256];
    std::memcpy(bad, good, sizeof bad);
    bad[10] = std::numeric_limits<float>::quiet_NaN();
    bnb::Status status = QuantMap::create(bad, BNB_QMAP_SIGNED, "m", &map);
    assert_int_equal(status.code(), BNB_ERR_BAD_FORMAT);
    assert_non_null(std::strstr(status.message().c_str(), "entry 10"));
    std::memcpy(bad, good, sizeof bad);
    bad[20] = bad[21];
    assert_int_equal(QuantMap::create(bad, BNB_QMAP_SIGNED, "m", &map).code(), BNB_ERR_BAD_FORMAT);
    std::memcpy(bad, good, sizeof bad);
    bad[127] = -0.0f; // -0.0 is not +0.0
    assert_int_equal(QuantMap::create(bad, BNB_QMAP_SIGNED, "m", &map).code(), BNB_ERR_BAD_FORMAT);
    float unsigned_map[256];
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_UNSIGNED, unsigned_map), BNB_OK);
    assert_int_equal(QuantMap::create(unsigned_map, BNB_QMAP_SIGNED, "m", &map).code(), BNB_ERR_BAD_FORMAT);
    assert_int_equal(QuantMap::create(good, BNB_QMAP_UNSIGNED, "m", &map).code(), BNB_ERR_BAD_FORMAT);
    assert_true(QuantMap::create(unsigned_map, BNB_QMAP_UNSIGNED, "m", &map).ok());

    // A valid map whose entries crowd one bucket cannot use the table: it falls back to the search,
    // with the same select rule.
    float crowded[256];
    for (int i = 0; i < 256; ++i) crowded[i] = i == 0 ? 0.0f : 0.5f + static_cast<float>(i) * 1e-6f;
    assert_true(QuantMap::create(crowded, BNB_QMAP_UNSIGNED, "crowded", &map).ok());
    assert_false(map->has_lut());
    const QuantTables t = map->tables();
    assert_null(t.lut);
    assert_int_equal(bnb::select_code(t, crowded[3]), 3);
    assert_int_equal(bnb::select_code(t, std::nextafter(crowded[3], 1.0f)), 3);
    assert_int_equal(bnb::select_code(t, 0.2f), 0);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maps_equal_their_definition),
        cmocka_unit_test(map_landmarks),
        cmocka_unit_test(select_at_every_midpoint),
        cmocka_unit_test(special_values_and_sign_fix),
        cmocka_unit_test(lut_equals_search),
        cmocka_unit_test(loaded_map_validation),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
