/* Sanity checks of the spec driver itself (tests/c/support/spec_driver.c), before the library is held to
 * it: code selection, sign fix, zero blocks, the reduction tree, the AdEMAMix absmax layout, the trust
 * ratio with ||p|| = 0, percentile clipping, non-finite and zero gradients, 16-bit writes, and every
 * rule against a torch-style float64 evaluation. Hand-derived expected values are explained inline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/spec_driver.h"
#include "support/test_util.h"

static float g_signed[256];
static float g_unsigned[256];

static int load_maps(void** state) {
    (void)state;
    if (bnb_qmap_copy(BNB_QMAP_SIGNED, g_signed) != BNB_OK) return -1;
    if (bnb_qmap_copy(BNB_QMAP_UNSIGNED, g_unsigned) != BNB_OK) return -1;
    return 0;
}

/* ALGORITHMS.md §10.1 defaults (SGD/LARS: lr 0.01, momentum 0.9 as in A1); clipping off. */
static spec_config config_for(int32_t algorithm) {
    spec_config c;
    memset(&c, 0, sizeof c);
    c.algorithm = algorithm;
    c.lr = 1e-3;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.percentile_clipping = 100;
    switch (algorithm) {
        case BNB_ALGO_ADAMW: c.weight_decay = 1e-2; break;
        case BNB_ALGO_LAMB: c.max_unorm = 1.0; break;
        case BNB_ALGO_SGD:
            c.lr = 0.01;
            c.momentum = 0.9;
            c.eps = 0.0;
            break;
        case BNB_ALGO_LARS:
            c.lr = 0.01;
            c.momentum = 0.9;
            c.max_unorm = 0.02;
            c.eps = 0.0;
            break;
        case BNB_ALGO_RMSPROP:
            c.lr = 1e-2;
            c.alpha = 0.99;
            break;
        case BNB_ALGO_ADAGRAD:
            c.lr = 1e-2;
            c.eps = 1e-10;
            break;
        case BNB_ALGO_LION:
            c.lr = 1e-4;
            c.beta2 = 0.99;
            c.eps = 0.0;
            break;
        case BNB_ALGO_ADEMAMIX:
            c.beta3 = 0.9999;
            c.alpha = 5.0;
            c.weight_decay = 1e-2;
            break;
        default: break;
    }
    return c;
}

static void fill(test_buffer* b, test_rng* rng, double scale) {
    for (int64_t i = 0; i < b->numel; ++i) buffer_set(b, i, rng_normal(rng) * scale);
}

static void fill_const(test_buffer* b, double value) {
    for (int64_t i = 0; i < b->numel; ++i) buffer_set(b, i, value);
}

static uint16_t bits16_at(const test_buffer* b, int64_t i) { return ((const uint16_t*)b->data)[i]; }

/* ---- §4.3 select ---------------------------------------------------------------------------------- */

static void check_select_map(const float* map) {
    for (int k = 0; k < 256; ++k) assert_int_equal(spec_select(map, map[k]), k);
    for (int k = 0; k < 255; ++k) {
        const float sum = map[k] + map[k + 1];
        const float mid = sum * 0.5f;
        assert_true(map[k] < mid && mid < map[k + 1]);
        assert_int_equal(spec_select(map, mid), (k % 2 == 0) ? k : k + 1); /* tie: the even index */
        assert_int_equal(spec_select(map, nextafterf(mid, INFINITY)), k + 1);
        assert_int_equal(spec_select(map, nextafterf(mid, -INFINITY)), k);
    }
    assert_int_equal(spec_select(map, NAN), 0);
    assert_int_equal(spec_select(map, -NAN), 0);
    assert_int_equal(spec_select(map, INFINITY), 255);
    assert_int_equal(spec_select(map, -INFINITY), 0);
    assert_int_equal(spec_select(map, 2.0f), 255);
    assert_int_equal(spec_select(map, nextafterf(1.0f, 0.0f)), 255); /* above the last midpoint */
}

static void select_midpoints_and_ties(void** state) {
    (void)state;
    check_select_map(g_signed);
    check_select_map(g_unsigned);
    /* Signed specifics: -1 and anything below map[0] -> 0; +-0 -> 127 (select has no sign fix). */
    assert_int_equal(spec_select(g_signed, -1.0f), 0);
    assert_int_equal(spec_select(g_signed, -0.0f), 127);
    assert_int_equal(spec_select(g_signed, 0.0f), 127);
    assert_int_equal(spec_select(g_signed, -1e-9f), 127);
    assert_int_equal(spec_select(g_unsigned, -1.0f), 0);
    /* The 5.5e-7 / 3.25e-7 entries of §2. */
    assert_int_equal(f32_to_bits(g_signed[128]), 0x3513A3B7u);
    assert_int_equal(f32_to_bits(g_unsigned[1]), 0x34AE7BAAu);
}

/* ---- sign fix and zero blocks (§4.2, §4.3) -------------------------------------------------------- */

static void sign_fix_and_zero_blocks(void** state) {
    (void)state;
    /* SGD with momentum, 8-bit block-wise: at t = 1, buf = g exactly, so the codes are those of g. */
    spec_config c = config_for(BNB_ALGO_SGD);
    const int64_t n = 768;
    test_buffer p = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer g = buffer_alloc(n, BNB_DTYPE_F32);
    /* block 0: A = 1 */
    buffer_set(&g, 0, 1.0);
    buffer_set(&g, 1, (double)-1e-9f);
    buffer_set(&g, 2, (double)1e-9f);
    buffer_set(&g, 3, -0.0);
    buffer_set(&g, 4, 0.0);
    buffer_set(&g, 5, -1.0);
    /* block 1: only +0 and -0 -> A = 0 */
    for (int64_t i = 256; i < 512; ++i) buffer_set(&g, i, (i % 2) ? -0.0 : 0.0);
    /* block 2: subnormal magnitudes -> A < 2^-126 */
    for (int64_t i = 512; i < 768; ++i) buffer_set(&g, i, (i % 2) ? (double)-1e-40f : (double)1e-40f);
    assert_true(fabsf((float)buffer_get(&g, 600)) < 0x1.0p-126f && buffer_get(&g, 600) != 0.0);

    spec_param s;
    spec_param_init(&s, &c, n, BNB_STATE_MODE_8BIT_BLOCKWISE);
    assert_int_equal(s.num_states, 1);
    assert_int_equal(s.codes[0][0], 127); /* fresh: z and absmax 0 */
    assert_true(s.absmax[0][0] == 0.0f);
    assert_int_equal(spec_step(&c, &s, &p, &g), 0);

    assert_true(s.absmax[0][0] == 1.0f);
    assert_int_equal(s.codes[0][0], 255);
    assert_int_equal(s.codes[0][1], 126); /* -1e-9 * A: nearest is z, sign fix -> 126 */
    assert_int_equal(s.codes[0][2], 127); /* +1e-9 * A -> 127 */
    assert_int_equal(s.codes[0][3], 126); /* -0.0 -> 126 */
    assert_int_equal(s.codes[0][4], 127);
    assert_int_equal(s.codes[0][5], 0);   /* -1 <= map[0] */
    for (int64_t i = 6; i < 256; ++i) assert_int_equal(s.codes[0][i], 127);
    assert_int_equal(f32_to_bits(spec_state_value(&s, 0, 1)), f32_to_bits(g_signed[126]));
    assert_true(spec_state_value(&s, 0, 5) == g_signed[0]);

    for (int b = 1; b <= 2; ++b) {
        assert_int_equal(f32_to_bits(s.absmax[0][b]), 0u); /* +0.0 */
        for (int64_t i = 256 * b; i < 256 * (b + 1); ++i) {
            assert_int_equal(s.codes[0][i], 127); /* z, also for -0.0 */
            assert_int_equal(f32_to_bits(spec_state_value(&s, 0, i)), 0u); /* dequantizes to +0.0 */
        }
    }
    spec_param_free(&s);

    /* Tensor-wise: the sign fix with the tensor absmax. */
    spec_param_init(&s, &c, n, BNB_STATE_MODE_8BIT_TENSORWISE);
    assert_int_equal(spec_step(&c, &s, &p, &g), 0);
    assert_true(s.absmax[0][0] == 1.0f);
    assert_int_equal(s.codes[0][3], 126);
    assert_int_equal(s.codes[0][257], 126); /* -0.0 in a block that is all zero, but the tensor is not */
    assert_int_equal(s.codes[0][256], 127);
    assert_int_equal(s.codes[0][513], 126); /* -1e-40 */
    spec_param_free(&s);

    /* Unsigned zero code: Adam with g = 1e-30 has v = nb2 * (g*g) = 0 (underflow): absmax2 0, code 0;
     * m = nb1 * g = 1e-31 is normal and quantizes to 255. */
    spec_config a = config_for(BNB_ALGO_ADAM);
    test_buffer p2 = buffer_alloc(256, BNB_DTYPE_F32);
    test_buffer g2 = buffer_alloc(256, BNB_DTYPE_F32);
    fill_const(&g2, (double)1e-30f);
    spec_param_init(&s, &a, 256, BNB_STATE_MODE_8BIT_BLOCKWISE);
    assert_int_equal(s.codes[1][0], 0);
    assert_int_equal(spec_step(&a, &s, &p2, &g2), 0);
    assert_int_equal(f32_to_bits(s.absmax[1][0]), 0u);
    for (int i = 0; i < 256; ++i) {
        assert_int_equal(s.codes[1][i], 0);
        assert_int_equal(s.codes[0][i], 255);
    }
    assert_true(s.absmax[0][0] == (float)(1.0 - 0.9) * 1e-30f);
    /* §3: with absmax 0 any byte dequantizes to +0.0 (map[0] * 0 would be -0.0). */
    s.codes[0][0] = 0;
    s.codes[0][1] = 200;
    s.absmax[0][0] = 0.0f;
    assert_int_equal(f32_to_bits(spec_state_value(&s, 0, 0)), 0u);
    assert_int_equal(f32_to_bits(spec_state_value(&s, 0, 1)), 0u);
    s.codes[1][2] = 77;
    assert_int_equal(f32_to_bits(spec_state_value(&s, 1, 2)), 0u);
    spec_param_free(&s);

    buffer_free(&p);
    buffer_free(&g);
    buffer_free(&p2);
    buffer_free(&g2);
}

/* ---- the reduction tree R (§7.1) ------------------------------------------------------------------ */

static void reduction_tree(void** state) {
    (void)state;
    spec_param s;
    /* (a) R of 257 ones = 257: through the clipping history (q = fl32(R(g*g))) and LARS's Su. */
    {
        spec_config c = config_for(BNB_ALGO_SGD);
        c.momentum = 0.0;
        c.percentile_clipping = 5;
        test_buffer p = buffer_alloc(257, BNB_DTYPE_F32);
        test_buffer g = buffer_alloc(257, BNB_DTYPE_F32);
        fill_const(&g, 1.0);
        spec_param_init(&s, &c, 257, BNB_STATE_MODE_32BIT);
        assert_int_equal(s.num_states, 0);
        assert_int_equal(spec_step(&c, &s, &p, &g), 0);
        for (int j = 0; j < 100; ++j) assert_true(s.history[j] == 257.0f);
        assert_true(s.last_gs == 1.0);
        spec_param_free(&s);

        spec_config l = config_for(BNB_ALGO_LARS);
        fill_const(&p, 0.5);
        spec_param_init(&s, &l, 257, BNB_STATE_MODE_32BIT);
        assert_int_equal(spec_step(&l, &s, &p, &g), 0);
        assert_true(s.last_update_sq_norm == 257.0); /* u = buf = g at t = 1 */
        /* Sp = 257 * 0.25 = 64.25 exactly; scale = min(1, 0.02 * sqrt(64.25) / sqrt(257)). */
        assert_true(s.last_trust_ratio == 0.02 * sqrt(64.25) / sqrt(257.0));
        spec_param_free(&s);
        buffer_free(&p);
        buffer_free(&g);
    }
    /* (b) Level 0 in fp32: lanes [2^24, 1 x 255]. Left to right every +1 is a tie that rounds back to 2^24;
     * the exact sum 2^24 + 255 rounds to 2^24 + 256; the tree gives 2^24 + 254:
     * s=128: lane0 = 2^24 + 1 -> 2^24 (tie, even), lanes 1..127 = 2; then lane0 gains 2, 4, 8, ..., 128. */
    {
        spec_config c = config_for(BNB_ALGO_SGD);
        c.momentum = 0.0;
        c.percentile_clipping = 0;
        test_buffer p = buffer_alloc(256, BNB_DTYPE_F32);
        test_buffer g = buffer_alloc(256, BNB_DTYPE_F32);
        fill_const(&g, 1.0);
        buffer_set(&g, 0, 4096.0); /* 4096^2 = 2^24 */
        spec_param_init(&s, &c, 256, BNB_STATE_MODE_32BIT);
        spec_step(&c, &s, &p, &g);
        assert_true(s.history[0] == 16777470.0f);
        assert_true(s.history[0] != 16777216.0f && s.history[0] != 16777472.0f);
        spec_param_free(&s);
        buffer_free(&p);
        buffer_free(&g);
    }
    /* (c) Levels >= 1 in double, through LARS's Su = R(buf^2) at t = 1 (buf = g).
     * Block 0 holds g = 2^27 (square 2^54), every later block two ones (partial 2.0). In double, 2^54 has an
     * ulp of 4, so 2^54 + 2 is a tie that rounds to 2^54.
     * 256 blocks (one run): 2^54 + 508 (the pattern of (b)); exact 2^54 + 510 -> 2^54 + 512; left to right 2^54.
     * 257 blocks: level 1 gives [2^54 + 508, 2], level 2 gives 2^54 + 510 -> tie -> 2^54 + 512 (even);
     * a single 512-lane tree would give 2^54 + 508. */
    for (int blocks = 256; blocks <= 257; ++blocks) {
        const int64_t n = (int64_t)blocks * 256;
        spec_config l = config_for(BNB_ALGO_LARS);
        test_buffer p = buffer_alloc(n, BNB_DTYPE_F32);
        test_buffer g = buffer_alloc(n, BNB_DTYPE_F32);
        fill_const(&p, 1.0);
        buffer_set(&g, 0, 134217728.0);
        for (int64_t b = 1; b < blocks; ++b) {
            buffer_set(&g, b * 256, 1.0);
            buffer_set(&g, b * 256 + 1, 1.0);
        }
        spec_param_init(&s, &l, n, BNB_STATE_MODE_32BIT);
        spec_step(&l, &s, &p, &g);
        const double two54 = 18014398509481984.0;
        assert_true(s.last_update_sq_norm == two54 + (blocks == 256 ? 508.0 : 512.0));
        spec_param_free(&s);
        buffer_free(&p);
        buffer_free(&g);
    }
}

/* ---- AdEMAMix layout (§3) ------------------------------------------------------------------------- */

static void ademamix_absmax_layout(void** state) {
    (void)state;
    spec_config c = config_for(BNB_ALGO_ADEMAMIX);
    const int64_t n = 300; /* 2 blocks, n % 256 != 0 */
    test_buffer p = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer g = buffer_alloc(n, BNB_DTYPE_F32);
    fill_const(&g, 0.5);
    buffer_set(&g, 10, -2.0);  /* block 0 max */
    buffer_set(&g, 299, 3.0);  /* block 1 max, the tail */
    /* At t = 1 every state is 0 + coefficient * g, so absmax = coefficient * max|g| (one fp32 multiply). */
    const float nb1 = (float)(1.0 - 0.9), nb2 = (float)(1.0 - 0.999), nb3 = (float)(1.0 - 0.9999);

    spec_param s;
    spec_param_init(&s, &c, n, BNB_STATE_MODE_8BIT_BLOCKWISE);
    assert_int_equal(s.num_states, 2);
    assert_int_equal(s.rows[0], 2);
    assert_int_equal(s.rows[1], 1);
    for (int64_t i = 0; i < 2 * n; ++i) assert_int_equal(s.codes[0][i], 127);
    spec_step(&c, &s, &p, &g);
    assert_true(s.absmax[0][0] == nb1 * 2.0f); /* m1 block 0 */
    assert_true(s.absmax[0][1] == nb1 * 3.0f); /* m1 block 1 */
    assert_true(s.absmax[0][2] == nb3 * 2.0f); /* m2 block 0 at absmax1[blocks + 0] */
    assert_true(s.absmax[0][3] == nb3 * 3.0f); /* m2 block 1 at absmax1[blocks + 1] */
    assert_true(s.absmax[1][0] == nb2 * 4.0f);
    assert_true(s.absmax[1][1] == nb2 * 9.0f);
    assert_int_equal(s.codes[0][10], 0);        /* m1 = -A */
    assert_int_equal(s.codes[0][n + 10], 0);    /* m2 = -A */
    assert_int_equal(s.codes[0][299], 255);
    assert_int_equal(s.codes[0][n + 299], 255);
    assert_true(spec_state_value(&s, 0, n + 299) == nb3 * 3.0f);
    assert_true(spec_state_value(&s, 0, 299) == nb1 * 3.0f);
    assert_true(spec_state_value(&s, 1, 299) == nb2 * 9.0f);
    assert_true(fabsf(spec_state_value(&s, 0, n + 5) - nb3 * 0.5f) <= 0.01f * nb3 * 2.0f);
    spec_param_free(&s);

    spec_param_init(&s, &c, n, BNB_STATE_MODE_8BIT_TENSORWISE);
    spec_step(&c, &s, &p, &g);
    assert_true(s.absmax[0][0] == nb1 * 3.0f); /* m1 */
    assert_true(s.absmax[0][1] == nb3 * 3.0f); /* m2 */
    assert_true(s.absmax[1][0] == nb2 * 9.0f);
    assert_true(spec_state_value(&s, 0, n + 299) == nb3 * 3.0f);
    spec_param_free(&s);

    /* 32-bit: two rows of fp32 values. */
    spec_param_init(&s, &c, n, BNB_STATE_MODE_32BIT);
    spec_step(&c, &s, &p, &g);
    assert_true(s.values[0][299] == nb1 * 3.0f);
    assert_true(s.values[0][n + 299] == nb3 * 3.0f);
    assert_true(spec_state_value(&s, 0, n + 10) == nb3 * -2.0f);
    spec_param_free(&s);
    buffer_free(&p);
    buffer_free(&g);
}

/* ---- trust ratio with ||p|| = 0 (§7.2) ------------------------------------------------------------ */

static void zero_norm_params_unchanged(void** state) {
    (void)state;
    const int32_t algorithms[2] = {BNB_ALGO_LAMB, BNB_ALGO_LARS};
    const bnb_state_mode modes[3] = {BNB_STATE_MODE_32BIT, BNB_STATE_MODE_8BIT_BLOCKWISE,
                                     BNB_STATE_MODE_8BIT_TENSORWISE};
    const bnb_dtype dtypes[2] = {BNB_DTYPE_F32, BNB_DTYPE_BF16};
    for (int a = 0; a < 2; ++a) {
        for (int m = 0; m < 3; ++m) {
            for (int d = 0; d < 2; ++d) {
                spec_config c = config_for(algorithms[a]);
                c.weight_decay = 0.01;
                const int64_t n = 300;
                test_rng rng;
                rng_seed(&rng, 7);
                test_buffer p = buffer_alloc(n, dtypes[d]);
                test_buffer p0 = buffer_alloc(n, dtypes[d]);
                test_buffer g = buffer_alloc(n, dtypes[d]);
                buffer_set(&p, 7, -0.0);
                buffer_set(&p, 299, -0.0);
                buffer_copy(&p0, &p);
                spec_param s;
                spec_param_init(&s, &c, n, modes[m]);
                for (int step = 0; step < 3; ++step) {
                    fill(&g, &rng, 1.0);
                    spec_step(&c, &s, &p, &g);
                    assert_true(buffer_equal_bits(&p, &p0)); /* -0.0 stays -0.0 */
                    assert_true(s.last_trust_ratio == 0.0);
                    assert_true(s.last_update_sq_norm > 0.0);
                }
                int moved = 0;
                for (int64_t i = 0; i < n; ++i) moved += spec_state_value(&s, 0, i) != 0.0f;
                assert_true(moved > n / 2); /* the states still update */
                spec_param_free(&s);

                /* Without the cap the same parameter moves. */
                c.max_unorm = 0.0;
                spec_param_init(&s, &c, n, modes[m]);
                spec_step(&c, &s, &p, &g);
                assert_false(buffer_equal_bits(&p, &p0));
                assert_true(s.last_trust_ratio == 1.0);
                assert_true(s.last_update_sq_norm == 0.0);
                spec_param_free(&s);
                buffer_free(&p);
                buffer_free(&p0);
                buffer_free(&g);
            }
        }
    }
}

/* ---- percentile clipping (§7.3) ------------------------------------------------------------------- */

static void percentile_clipping_history(void** state) {
    (void)state;
    /* Plain SGD with lr 1 so that p moves by exactly -gs*g. */
    spec_config c = config_for(BNB_ALGO_SGD);
    c.momentum = 0.0;
    c.lr = 1.0;
    c.percentile_clipping = 5;
    const int64_t n = 300;
    test_rng rng;
    rng_seed(&rng, 11);
    test_buffer p = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer g1 = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer g2 = buffer_alloc(n, BNB_DTYPE_F32);
    fill(&g1, &rng, 1.0);
    for (int64_t i = 0; i < n; ++i) buffer_set(&g2, i, 2.0 * buffer_get(&g1, i));
    spec_param s;
    spec_param_init(&s, &c, n, BNB_STATE_MODE_32BIT);

    /* t = 1: the whole history is seeded with q1, gs = 1. */
    spec_step(&c, &s, &p, &g1);
    const float q1 = s.history[0];
    assert_true(q1 > 0.0f);
    for (int j = 0; j < 100; ++j) assert_true(s.history[j] == q1);
    assert_true(s.last_gs == 1.0);
    for (int64_t i = 0; i < n; ++i) assert_true(buffer_get(&p, i) == -buffer_get(&g1, i));

    /* t = 2 with 2g: q2 = 4 q1 exactly (scaling by 4 commutes with every rounding), stored at h[2];
     * the 5th percentile is q1, so gs = sqrt(q1) / sqrt(4 q1) = 0.5 exactly; p moves by -0.5 * 2g = -g. */
    spec_step(&c, &s, &p, &g2);
    assert_true(s.history[2] == 4.0f * q1);
    for (int j = 0; j < 100; ++j) {
        if (j != 2) assert_true(s.history[j] == q1);
    }
    assert_true(s.last_gs == 0.5);
    for (int64_t i = 0; i < n; ++i) assert_true(buffer_get(&p, i) == -2.0 * buffer_get(&g1, i));

    /* t = 3 with g: cur = sqrt(q1) is not above the clip value: gs = 1. */
    spec_step(&c, &s, &p, &g1);
    assert_true(s.history[3] == q1);
    assert_true(s.last_gs == 1.0);

    /* t = 4..100: the slot wraps to h[0] at t = 100. */
    for (int64_t t = 4; t <= 100; ++t) spec_step(&c, &s, &p, t == 100 ? &g2 : &g1);
    assert_true(s.t == 100);
    assert_true(s.history[0] == 4.0f * q1);
    assert_true(s.last_gs == 0.5);

    /* Non-finite gradient elements contribute 0 to q (and are counted). */
    spec_param s2;
    spec_param_init(&s2, &c, n, BNB_STATE_MODE_32BIT);
    buffer_set(&g1, 17, NAN);
    assert_int_equal(spec_step(&c, &s2, &p, &g1), 1);
    buffer_set(&g1, 17, 0.0);
    spec_param s3;
    spec_param_init(&s3, &c, n, BNB_STATE_MODE_32BIT);
    spec_step(&c, &s3, &p, &g1);
    assert_true(s2.history[0] == s3.history[0]);
    spec_param_free(&s2);
    spec_param_free(&s3);

    spec_param_free(&s);
    buffer_free(&p);
    buffer_free(&g1);
    buffer_free(&g2);
}

/* ---- non-finite gradients and skip_zeros (§5.3) --------------------------------------------------- */

/* The code a kept element's old value must get against its block's new absmax (§4.2-4.3). */
static uint8_t expected_code(const float* map, int is_signed, float value, float absmax) {
    if (absmax == 0.0f) return (uint8_t)(is_signed ? 127 : 0);
    const float r = 1.0f / absmax;
    uint8_t c = spec_select(map, value * r);
    if (is_signed && !isnan(value) && (signbit(map[c]) != 0) != (signbit(value) != 0))
        c = (uint8_t)(value > 0.0f ? c + 1 : c - 1);
    return c;
}

static void nonfinite_kept_and_counted(void** state) {
    (void)state;
    const bnb_state_mode modes[3] = {BNB_STATE_MODE_32BIT, BNB_STATE_MODE_8BIT_BLOCKWISE,
                                     BNB_STATE_MODE_8BIT_TENSORWISE};
    const bnb_dtype dtypes[3] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
    const int64_t bad[3] = {0, 255, 599}; /* a block's first and last element, and the tail */
    for (int m = 0; m < 3; ++m) {
        for (int d = 0; d < 3; ++d) {
            spec_config c = config_for(BNB_ALGO_ADAMW);
            c.lr = 0.05; /* large enough to move every bf16 element */
            const int64_t n = 600;
            test_rng rng;
            rng_seed(&rng, 3);
            test_buffer p = buffer_alloc(n, dtypes[d]);
            test_buffer p_before = buffer_alloc(n, dtypes[d]);
            test_buffer g = buffer_alloc(n, dtypes[d]);
            fill(&p, &rng, 0.1);
            fill(&g, &rng, 0.01);
            spec_param s;
            spec_param_init(&s, &c, n, modes[m]);
            assert_int_equal(spec_step(&c, &s, &p, &g), 0);

            fill(&g, &rng, 0.01);
            buffer_set(&g, bad[0], NAN);
            buffer_set(&g, bad[1], INFINITY);
            buffer_set(&g, bad[2], -INFINITY);
            assert_int_equal(spec_count_nonfinite(&g), 3);
            buffer_copy(&p_before, &p);
            float old[2][3];
            for (int k = 0; k < 2; ++k)
                for (int j = 0; j < 3; ++j) old[k][j] = spec_state_value(&s, k, bad[j]);
            assert_int_equal(spec_step(&c, &s, &p, &g), 3);

            int changed = 0;
            for (int64_t i = 0; i < n; ++i) {
                const int kept = i == bad[0] || i == bad[1] || i == bad[2];
                const double before = buffer_get(&p_before, i), after = buffer_get(&p, i);
                if (kept) assert_true(memcmp(&before, &after, sizeof before) == 0);
                else changed += before != after;
            }
            assert_true(changed > n - 10);
            for (int k = 0; k < 2; ++k) {
                for (int j = 0; j < 3; ++j) {
                    if (modes[m] == BNB_STATE_MODE_32BIT) {
                        assert_int_equal(f32_to_bits(s.values[k][bad[j]]), f32_to_bits(old[k][j]));
                    } else {
                        const int64_t a_index = modes[m] == BNB_STATE_MODE_8BIT_BLOCKWISE ? bad[j] / 256 : 0;
                        const float* map = k == 0 ? g_signed : g_unsigned;
                        assert_int_equal(s.codes[k][bad[j]],
                                         expected_code(map, k == 0, old[k][j], s.absmax[k][a_index]));
                    }
                }
            }
            spec_param_free(&s);

            /* 16-bit: a kept element is not written at all (a NaN payload survives). A NaN parameter
             * with a usable gradient gives a NaN new parameter, so it is kept and counted too
             * (docs/extreme-values.md): 3 bad gradients + 1 NaN parameter. */
            if (dtypes[d] != BNB_DTYPE_F32) {
                ((uint16_t*)p.data)[0] = 0xFFC1;
                ((uint16_t*)p.data)[1] = 0xFFC1;
                buffer_set(&g, 1, 0.01);
                spec_param_init(&s, &c, n, modes[m]);
                assert_int_equal(spec_step(&c, &s, &p, &g), 4);
                assert_int_equal(bits16_at(&p, 0), 0xFFC1);
                assert_int_equal(bits16_at(&p, 1), 0xFFC1);
                spec_param_free(&s);
            }
            buffer_free(&p);
            buffer_free(&p_before);
            buffer_free(&g);
        }
    }
}

static void skip_zeros_keeps_elements(void** state) {
    (void)state;
    spec_config c = config_for(BNB_ALGO_ADAMW);
    c.weight_decay = 0.1;
    const int64_t n = 300;
    test_rng rng;
    rng_seed(&rng, 5);
    test_buffer p = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer p0 = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer g = buffer_alloc(n, BNB_DTYPE_F32);
    fill(&p, &rng, 0.1);
    fill(&g, &rng, 0.01);
    buffer_set(&g, 3, 0.0);
    buffer_set(&g, 4, -0.0);
    buffer_copy(&p0, &p);
    for (int skip = 0; skip <= 1; ++skip) {
        buffer_copy(&p, &p0);
        c.skip_zeros = skip;
        spec_param s;
        spec_param_init(&s, &c, n, BNB_STATE_MODE_32BIT);
        assert_int_equal(spec_step(&c, &s, &p, &g), 0); /* zeros are never counted */
        for (int64_t i = 3; i <= 4; ++i) {
            if (skip) {
                assert_true(buffer_get(&p, i) == buffer_get(&p0, i));
            } else {
                /* p*dec, then m = 0 and v = 0 give a zero step. */
                const float dec = (float)(1.0 - 1e-3 * 0.1);
                assert_true(buffer_get(&p, i) == (double)((float)buffer_get(&p0, i) * dec));
            }
            assert_true(s.values[0][i] == 0.0f && s.values[1][i] == 0.0f);
        }
        assert_true(buffer_get(&p, 5) != buffer_get(&p0, 5));
        spec_param_free(&s);
    }
    buffer_free(&p);
    buffer_free(&p0);
    buffer_free(&g);
}

/* §5.3: an SGD element kept at t = 1 keeps buf = 0 and is blended, not initialised, at its next step. */
static void sgd_kept_at_first_step(void** state) {
    (void)state;
    spec_config c = config_for(BNB_ALGO_SGD);
    c.dampening = 0.5;
    test_buffer p = buffer_alloc(4, BNB_DTYPE_F32);
    test_buffer g = buffer_alloc(4, BNB_DTYPE_F32);
    fill_const(&g, 1.0);
    buffer_set(&g, 0, NAN);
    spec_param s;
    spec_param_init(&s, &c, 4, BNB_STATE_MODE_32BIT);
    assert_int_equal(spec_step(&c, &s, &p, &g), 1);
    assert_true(s.values[0][0] == 0.0f);
    assert_true(s.values[0][1] == 1.0f); /* t = 1: buf = g, dampening not applied */
    buffer_set(&g, 0, 1.0);
    assert_int_equal(spec_step(&c, &s, &p, &g), 0);
    assert_true(s.values[0][0] == 0.5f);                     /* 0.9f*0 + 0.5f*1 */
    assert_true(s.values[0][1] == 0.9f * 1.0f + 0.5f * 1.0f); /* blended */
    spec_param_free(&s);
    buffer_free(&p);
    buffer_free(&g);
}

/* §1.4: one round-to-nearest-even to fp16, overflow to +-Inf. */
static void fp16_overflow_and_rounding(void** state) {
    (void)state;
    spec_config c = config_for(BNB_ALGO_SGD);
    c.momentum = 0.0;
    c.lr = 1.0;
    test_buffer p = buffer_alloc(3, BNB_DTYPE_F16);
    test_buffer g = buffer_alloc(3, BNB_DTYPE_F16);
    buffer_set(&p, 0, 65504.0);
    buffer_set(&g, 0, -32.0); /* 65536 -> +Inf */
    buffer_set(&p, 1, 65504.0);
    buffer_set(&g, 1, -8.0);  /* 65512 -> 65504 */
    buffer_set(&p, 2, 1.0);
    buffer_set(&g, 2, -0x1.0p-11); /* 1 + 2^-11: a tie between 1 and 1 + 2^-10 -> 1 (even) */
    spec_param s;
    spec_param_init(&s, &c, 3, BNB_STATE_MODE_32BIT);
    spec_step(&c, &s, &p, &g);
    assert_int_equal(bits16_at(&p, 0), 0x7C00);
    assert_true(buffer_get(&p, 1) == 65504.0);
    assert_true(buffer_get(&p, 2) == 1.0);
    spec_param_free(&s);
    buffer_free(&p);
    buffer_free(&g);
}

/* Tensor-wise absmax covers the tail; block-wise's last block covers real elements only. */
static void absmax_covers_tail(void** state) {
    (void)state;
    spec_config c = config_for(BNB_ALGO_ADAM);
    const int64_t n = 257;
    test_buffer p = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer g = buffer_alloc(n, BNB_DTYPE_F32);
    fill_const(&g, 0.1);
    buffer_set(&g, 256, -5.0);
    const float nb1 = (float)(1.0 - 0.9), nb2 = (float)(1.0 - 0.999);
    spec_param s;
    spec_param_init(&s, &c, n, BNB_STATE_MODE_8BIT_TENSORWISE);
    spec_step(&c, &s, &p, &g);
    assert_true(s.absmax[0][0] == nb1 * 5.0f);
    assert_true(s.absmax[1][0] == nb2 * 25.0f);
    assert_int_equal(s.codes[0][256], 0);
    assert_int_equal(s.codes[1][256], 255);
    spec_param_free(&s);
    spec_param_init(&s, &c, n, BNB_STATE_MODE_8BIT_BLOCKWISE);
    spec_step(&c, &s, &p, &g);
    assert_true(s.absmax[0][0] == nb1 * 0.1f);
    assert_true(s.absmax[0][1] == nb1 * 5.0f);
    assert_true(s.absmax[1][0] == nb2 * (0.1f * 0.1f));
    assert_int_equal(s.codes[0][0], 255);
    spec_param_free(&s);
    buffer_free(&p);
    buffer_free(&g);
}

/* ---- every rule against a torch-style float64 evaluation (A1-style tolerances) -------------------- */

typedef struct ref_state {
    double *p, *s1, *s2, *s3; /* s1: m / buf / v, s2: v / nu, s3: AdEMAMix m2 */
} ref_state;

static double norm2(const double* x, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += x[i] * x[i];
    return sqrt(sum);
}

static void ref_step(const spec_config* c, int64_t t, int64_t n, ref_state* r, const double* grad) {
    const double lr = c->lr, wd = c->weight_decay, eps = c->eps;
    const double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
    double* u = calloc((size_t)n, sizeof(double));
    const double pnorm = norm2(r->p, n);
    for (int64_t i = 0; i < n; ++i) {
        double g = grad[i];
        double* p = &r->p[i];
        switch (c->algorithm) {
            case BNB_ALGO_ADAM:
            case BNB_ALGO_ADAMW:
                if (c->algorithm == BNB_ALGO_ADAM) g += wd * *p;
                else *p *= 1.0 - lr * wd;
                r->s1[i] = c->beta1 * r->s1[i] + (1.0 - c->beta1) * g;
                r->s2[i] = c->beta2 * r->s2[i] + (1.0 - c->beta2) * g * g;
                *p -= lr / bc1 * r->s1[i] / (sqrt(r->s2[i]) / sqrt(bc2) + eps);
                break;
            case BNB_ALGO_SGD: {
                g += wd * *p;
                if (c->momentum == 0.0) {
                    *p -= lr * g;
                    break;
                }
                r->s1[i] = t == 1 ? g : c->momentum * r->s1[i] + (1.0 - c->dampening) * g;
                *p -= lr * (c->nesterov ? g + c->momentum * r->s1[i] : r->s1[i]);
                break;
            }
            case BNB_ALGO_RMSPROP:
                g += wd * *p;
                r->s1[i] = c->alpha * r->s1[i] + (1.0 - c->alpha) * g * g;
                *p -= lr * g / (sqrt(r->s1[i]) + eps);
                break;
            case BNB_ALGO_ADAGRAD:
                g += wd * *p;
                r->s1[i] += g * g;
                *p -= lr * g / (sqrt(r->s1[i]) + eps);
                break;
            case BNB_ALGO_LION: {
                *p *= 1.0 - lr * wd;
                const double cc = c->beta1 * r->s1[i] + (1.0 - c->beta1) * g;
                *p -= lr * (cc > 0 ? 1.0 : (cc < 0 ? -1.0 : 0.0));
                r->s1[i] = c->beta2 * r->s1[i] + (1.0 - c->beta2) * g;
                break;
            }
            case BNB_ALGO_LAMB:
                r->s1[i] = c->beta1 * r->s1[i] + (1.0 - c->beta1) * g;
                r->s2[i] = c->beta2 * r->s2[i] + (1.0 - c->beta2) * g * g;
                u[i] = (r->s1[i] / bc1) / (sqrt(r->s2[i] / bc2) + eps);
                break;
            case BNB_ALGO_LARS:
                g += wd * *p;
                r->s1[i] = t == 1 ? g : c->momentum * r->s1[i] + g;
                u[i] = r->s1[i];
                break;
            case BNB_ALGO_ADEMAMIX: {
                double alpha_t = c->alpha, beta3_t = c->beta3;
                if (c->t_alpha > 0) alpha_t = fmin((double)t * c->alpha / c->t_alpha, c->alpha);
                if (c->t_beta3 > 0) {
                    const double x = (double)t / c->t_beta3;
                    beta3_t = fmin(exp(log(c->beta1) * log(c->beta3) /
                                       ((1.0 - x) * log(c->beta3) + x * log(c->beta1))),
                                   c->beta3);
                }
                r->s1[i] = c->beta1 * r->s1[i] + (1.0 - c->beta1) * g;
                r->s3[i] = beta3_t * r->s3[i] + (1.0 - beta3_t) * g;
                r->s2[i] = c->beta2 * r->s2[i] + (1.0 - c->beta2) * g * g;
                const double step = (r->s1[i] / bc1 + alpha_t * r->s3[i]) / (sqrt(r->s2[i] / bc2) + eps) + wd * *p;
                *p -= lr * step;
                break;
            }
            default: fail();
        }
    }
    if (c->algorithm == BNB_ALGO_LAMB || c->algorithm == BNB_ALGO_LARS) {
        const double unorm = norm2(u, n);
        const double scale = (c->max_unorm == 0.0 || unorm == 0.0) ? 1.0 : fmin(1.0, c->max_unorm * pnorm / unorm);
        for (int64_t i = 0; i < n; ++i) {
            if (c->algorithm == BNB_ALGO_LAMB) r->p[i] *= 1.0 - lr * wd;
            r->p[i] -= lr * scale * u[i];
        }
    }
    free(u);
}

static int count_mismatches(const double* ref, const float* got, int64_t n, double atol, double rtol) {
    int bad = 0;
    for (int64_t i = 0; i < n; ++i) bad += !is_close((double)got[i], ref[i], atol, rtol);
    return bad;
}

static void run_against_fp64(spec_config c) {
    const int64_t n = 1024;
    test_rng rng;
    rng_seed(&rng, 1234u + (uint64_t)c.algorithm);
    test_buffer p = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer g = buffer_alloc(n, BNB_DTYPE_F32);
    fill(&p, &rng, 0.1);
    ref_state r;
    r.p = calloc((size_t)n, sizeof(double));
    r.s1 = calloc((size_t)n, sizeof(double));
    r.s2 = calloc((size_t)n, sizeof(double));
    r.s3 = calloc((size_t)n, sizeof(double));
    double* gd = calloc((size_t)n, sizeof(double));
    float* tmp = calloc((size_t)n, sizeof(float));
    for (int64_t i = 0; i < n; ++i) r.p[i] = buffer_get(&p, i);
    spec_param s;
    spec_param_init(&s, &c, n, BNB_STATE_MODE_32BIT);
    for (int64_t t = 1; t <= 20; ++t) {
        fill(&g, &rng, 0.01);
        for (int64_t i = 0; i < n; ++i) gd[i] = buffer_get(&g, i);
        assert_int_equal(spec_step(&c, &s, &p, &g), 0);
        ref_step(&c, t, n, &r, gd);
        for (int64_t i = 0; i < n; ++i) tmp[i] = (float)buffer_get(&p, i);
        const int bad_p = count_mismatches(r.p, tmp, n, 1e-6, 1e-5);
        int bad_s = 0;
        if (s.num_states >= 1) {
            bad_s += count_mismatches(r.s1, s.values[0], n, 1e-6, 1e-5);
            if (c.algorithm == BNB_ALGO_ADEMAMIX) bad_s += count_mismatches(r.s3, s.values[0] + n, n, 1e-6, 1e-5);
        }
        if (s.num_states == 2) bad_s += count_mismatches(r.s2, s.values[1], n, 1e-6, 1e-5);
        if (bad_p > 15 || bad_s > 0) {
            print_error("algorithm %d step %lld: %d param and %d state mismatches\n", (int)c.algorithm,
                        (long long)t, bad_p, bad_s);
            fail();
        }
    }
    spec_param_free(&s);
    free(r.p);
    free(r.s1);
    free(r.s2);
    free(r.s3);
    free(gd);
    free(tmp);
    buffer_free(&p);
    buffer_free(&g);
}

static void rules_track_fp64_reference(void** state) {
    (void)state;
    const int32_t algorithms[9] = {BNB_ALGO_ADAM, BNB_ALGO_ADAMW, BNB_ALGO_SGD, BNB_ALGO_LION, BNB_ALGO_LAMB,
                                   BNB_ALGO_LARS, BNB_ALGO_RMSPROP, BNB_ALGO_ADAGRAD, BNB_ALGO_ADEMAMIX};
    for (int a = 0; a < 9; ++a) {
        spec_config c = config_for(algorithms[a]);
        run_against_fp64(c);
        c.weight_decay = 1e-2;
        run_against_fp64(c);
    }
    spec_config c = config_for(BNB_ALGO_SGD);
    c.nesterov = 1;
    run_against_fp64(c);
    c = config_for(BNB_ALGO_SGD);
    c.dampening = 0.3;
    run_against_fp64(c);
    c.momentum = 0.0;
    c.dampening = 0.0;
    run_against_fp64(c);
    c = config_for(BNB_ALGO_ADEMAMIX);
    c.t_alpha = 20;
    c.t_beta3 = 20;
    run_against_fp64(c);
    c = config_for(BNB_ALGO_LAMB);
    c.max_unorm = 0.0;
    run_against_fp64(c);
    c = config_for(BNB_ALGO_LARS);
    c.max_unorm = 10.0;
    run_against_fp64(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(select_midpoints_and_ties),
        cmocka_unit_test(sign_fix_and_zero_blocks),
        cmocka_unit_test(reduction_tree),
        cmocka_unit_test(ademamix_absmax_layout),
        cmocka_unit_test(zero_norm_params_unchanged),
        cmocka_unit_test(percentile_clipping_history),
        cmocka_unit_test(nonfinite_kept_and_counted),
        cmocka_unit_test(skip_zeros_keeps_elements),
        cmocka_unit_test(sgd_kept_at_first_step),
        cmocka_unit_test(fp16_overflow_and_rounding),
        cmocka_unit_test(absmax_covers_tail),
        cmocka_unit_test(rules_track_fp64_reference),
    };
    return cmocka_run_group_tests(tests, load_maps, NULL);
}
