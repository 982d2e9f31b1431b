/* Stand-alone block-wise quantization through the public API:
 *  - round-trip error bounds of ALGORITHMS.md §13.3 on 1024x1024 tensors, averaged over draws of fp32,
 *    fp16 and bf16 inputs (the bounds come from bitsandbytes' suite; the typical values of the exact rule
 *    are printed beside them);
 *  - bit-for-bit equality with the spec's linear-scan select plus sign fix, on random data with ties,
 *    specials, zero blocks and a tail;
 *  - dequantization gives +0.0 for absmax 0 and rounds once to 16-bit outputs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/spec_driver.h"
#include "support/test_util.h"

enum { kN = 1024 * 1024, kBlocks = kN / 256 };

typedef struct roundtrip_case {
    const char* name;
    bnb_qmap_kind kind;
    int uniform; /* 1: rand [0, 1); 0: randn */
    double max_abs, max_rel;
} roundtrip_case;

static void roundtrip_bounds(void** state) {
    (void)state;
    const roundtrip_case cases[] = {
        {"randn/signed", BNB_QMAP_SIGNED, 0, 0.011, 0.018},
        {"rand/signed", BNB_QMAP_SIGNED, 1, 0.0036, 0.015},
        {"rand/unsigned", BNB_QMAP_UNSIGNED, 1, 0.0023, 0.012},
    };
    const bnb_dtype dtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
    uint8_t* codes = malloc(kN);
    float* absmax = malloc(sizeof(float) * kBlocks);
    test_buffer out = buffer_alloc(kN, BNB_DTYPE_F32);
    for (size_t c = 0; c < 3; ++c) {
        double sum_abs = 0.0, sum_rel = 0.0;
        int draws = 0;
        test_rng rng;
        rng_seed(&rng, 2024 + c);
        for (size_t d = 0; d < 3; ++d) {
            for (int draw = 0; draw < 2; ++draw, ++draws) {
                test_buffer in = buffer_alloc(kN, dtypes[d]);
                for (int64_t i = 0; i < kN; ++i) buffer_set(&in, i, cases[c].uniform ? rng_uniform(&rng) : rng_normal(&rng));
                bnb_tensor src = buffer_tensor(&in), dst = buffer_tensor(&out);
                assert_int_equal(bnb_quantize_blockwise(cases[c].kind, &src, codes, absmax), BNB_OK);
                assert_int_equal(bnb_dequantize_blockwise(cases[c].kind, codes, absmax, &dst), BNB_OK);
                double err_abs = 0.0, err_rel = 0.0;
                for (int64_t i = 0; i < kN; ++i) {
                    const double x = buffer_get(&in, i), y = buffer_get(&out, i);
                    err_abs += fabs(x - y);
                    err_rel += fabs(x - y) / fabs(x + 1e-8);
                }
                sum_abs += err_abs / kN;
                sum_rel += err_rel / kN;
                buffer_free(&in);
            }
        }
        const double mean_abs = sum_abs / draws, mean_rel = sum_rel / draws;
        printf("round trip %-14s mean abs %.5f (bound %.4f), mean rel %.5f (bound %.4f)\n", cases[c].name, mean_abs,
               cases[c].max_abs, mean_rel, cases[c].max_rel);
        assert_true(mean_abs < cases[c].max_abs);
        assert_true(mean_rel < cases[c].max_rel);
    }
    free(codes);
    free(absmax);
    buffer_free(&out);
}

static uint8_t spec_code(const float* map, int is_signed, float s, float absmax) {
    if (absmax < 0x1.0p-126f) return is_signed ? 127 : 0;
    uint8_t c = spec_select(map, s * (1.0f / absmax));
    if (is_signed && !isnan(s) && (signbit(map[c]) != 0) != (signbit(s) != 0)) c = (uint8_t)(s > 0 ? c + 1 : c - 1);
    return c;
}

static void matches_spec_select(void** state) {
    (void)state;
    const int64_t n = 256 * 40 + 77;
    float maps[2][256];
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_SIGNED, maps[0]), BNB_OK);
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_UNSIGNED, maps[1]), BNB_OK);
    float* x = malloc(sizeof(float) * (size_t)n);
    uint8_t* codes = malloc((size_t)n);
    float* absmax = malloc(sizeof(float) * 41);
    test_rng rng;
    rng_seed(&rng, 55);
    for (int k = 0; k < 2; ++k) {
        for (int64_t i = 0; i < n; ++i) {
            const int64_t block = i / 256;
            const double scale = pow(10.0, (double)(block % 9) - 6.0);
            x[i] = (float)(rng_normal(&rng) * scale);
            if (k == 1) x[i] = fabsf(x[i]);
        }
        /* Exact map entries and midpoints times a block absmax of 1 (block 5 has 1.0 as its max). */
        for (int j = 0; j < 255; ++j) x[5 * 256 + j] = (maps[k][j] + maps[k][j + 1]) * 0.5f;
        x[5 * 256 + 255] = 1.0f;
        for (int j = 0; j < 256; ++j) x[6 * 256 + j] = j < 255 ? maps[k][j] : 1.0f;
        for (int j = 0; j < 256; ++j) x[7 * 256 + j] = 0.0f;              /* zero block */
        for (int j = 0; j < 256; ++j) x[8 * 256 + j] = k == 0 ? -0.0f : 1e-40f; /* subnormal block */
        x[9 * 256 + 3] = NAN;                                               /* NaN is ignored by absmax */
        x[10 * 256 + 4] = -1e-12f;
        bnb_tensor src = {x, n, BNB_DTYPE_F32, BNB_DEVICE_CPU};
        const bnb_qmap_kind kind = k == 0 ? BNB_QMAP_SIGNED : BNB_QMAP_UNSIGNED;
        assert_int_equal(bnb_quantize_blockwise(kind, &src, codes, absmax), BNB_OK);
        for (int64_t b = 0; b < 41; ++b) {
            float a = 0.0f;
            for (int64_t i = b * 256; i < n && i < (b + 1) * 256; ++i) a = fmaxf(a, fabsf(x[i]));
            const float stored = a < 0x1.0p-126f ? 0.0f : a;
            assert_int_equal(f32_to_bits(absmax[b]), f32_to_bits(stored));
            for (int64_t i = b * 256; i < n && i < (b + 1) * 256; ++i) {
                const uint8_t want = spec_code(maps[k], k == 0, x[i], stored);
                if (codes[i] != want) fail_msg("map %d x[%lld] = %a: code %d, spec %d", k, (long long)i, (double)x[i], codes[i], want);
            }
        }
        assert_int_equal(codes[7 * 256], k == 0 ? 127 : 0);
        assert_true(absmax[7] == 0.0f && absmax[8] == 0.0f);
        assert_int_equal(codes[9 * 256 + 3], 0);
    }
    free(x);
    free(codes);
    free(absmax);
}

static void dequantize_outputs(void** state) {
    (void)state;
    uint8_t codes[300];
    float absmax[2] = {0.0f, 3.0f};
    for (int i = 0; i < 300; ++i) codes[i] = (uint8_t)(i % 256);
    float map[256];
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_SIGNED, map), BNB_OK);
    const bnb_dtype dtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
    for (int d = 0; d < 3; ++d) {
        test_buffer out = buffer_alloc(300, dtypes[d]);
        bnb_tensor t = buffer_tensor(&out);
        assert_int_equal(bnb_dequantize_blockwise(BNB_QMAP_SIGNED, codes, absmax, &t), BNB_OK);
        for (int i = 0; i < 256; ++i) {
            assert_true(buffer_get(&out, i) == 0.0 && !signbit(buffer_get(&out, i))); /* absmax 0: +0.0 */
        }
        for (int i = 256; i < 300; ++i) {
            const double want = round_to_dtype((double)(map[codes[i]] * 3.0f), dtypes[d]);
            assert_true(buffer_get(&out, i) == want);
        }
        buffer_free(&out);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_bounds),
        cmocka_unit_test(matches_spec_select),
        cmocka_unit_test(dequantize_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
