/* Per-group hyper-parameters: set/get, bounds, groups, and schedules that change them between steps. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/optim_helpers.h"
#include "support/spec_driver.h"

static const bnb_hparam kHparams[] = {BNB_HPARAM_LR, BNB_HPARAM_BETA1, BNB_HPARAM_BETA2, BNB_HPARAM_EPS,
                                      BNB_HPARAM_WEIGHT_DECAY};

static double get(const bnb_optimizer* opt, int64_t group, bnb_hparam h) {
    double value = NAN;
    assert_int_equal(bnb_optimizer_get_hparam(opt, group, h, &value), BNB_OK);
    return value;
}

static void set_get_round_trip(void** state) {
    (void)state;
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 32, 1, 1e-3, -1, 4096);
    const double values[] = {0.5, 0.25, 0.875, 1e-5, 0.0};
    for (size_t i = 0; i < 5; ++i) {
        assert_int_equal(bnb_optimizer_set_hparam(opt, 0, kHparams[i], values[i]), BNB_OK);
        assert_true(get(opt, 0, kHparams[i]) == values[i]);
    }
    bnb_optimizer_destroy(opt);
}

static void bounds_are_enforced(void** state) {
    (void)state;
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 32, 1, 1e-3, -1, 4096);
    for (size_t i = 0; i < 5; ++i) {
        bnb_hparam_bounds b;
        assert_int_equal(bnb_hparam_get_bounds(BNB_ALGO_ADAM, kHparams[i], &b), BNB_OK);
        assert_true(b.min == 0.0 && b.min_inclusive == 1);
        const double before = get(opt, 0, kHparams[i]);
        /* Just below the minimum, non-finite values, and the (exclusive) maximum for the betas. */
        const double bad[] = {-1e-12, NAN, INFINITY, -INFINITY};
        for (size_t k = 0; k < 4; ++k) {
            assert_int_equal(bnb_optimizer_set_hparam(opt, 0, kHparams[i], bad[k]), BNB_ERR_INVALID_ARGUMENT);
            assert_true(get(opt, 0, kHparams[i]) == before);
        }
        if (isfinite(b.max)) {
            assert_int_equal(b.max_inclusive, 0);
            assert_int_equal(bnb_optimizer_set_hparam(opt, 0, kHparams[i], b.max), BNB_ERR_INVALID_ARGUMENT);
            assert_int_equal(bnb_optimizer_set_hparam(opt, 0, kHparams[i], nextafter(b.max, 0.0)), BNB_OK);
        }
        assert_int_equal(bnb_optimizer_set_hparam(opt, 0, kHparams[i], b.min), BNB_OK);
    }
    bnb_optimizer_destroy(opt);
}

static void groups_are_independent(void** state) {
    (void)state;
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 32, 1, 2e-3, 0.05, 4096);
    assert_int_equal(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_LR, 0.5), BNB_OK);
    int64_t g1 = -1, g2 = -1, count = 0;
    assert_int_equal(bnb_optimizer_add_group(opt, &g1), BNB_OK);
    assert_int_equal(bnb_optimizer_add_group(opt, &g2), BNB_OK);
    assert_int_equal(g1, 1);
    assert_int_equal(g2, 2);
    assert_int_equal(bnb_optimizer_group_count(opt, &count), BNB_OK);
    assert_int_equal(count, 3);
    /* New groups start from the creation config, like torch's add_param_group defaults. */
    assert_true(get(opt, g1, BNB_HPARAM_LR) == 2e-3);
    assert_true(get(opt, g1, BNB_HPARAM_WEIGHT_DECAY) == 0.05);
    assert_int_equal(bnb_optimizer_set_hparam(opt, g2, BNB_HPARAM_BETA1, 0.0), BNB_OK);
    assert_true(get(opt, g1, BNB_HPARAM_BETA1) == 0.9);
    assert_true(get(opt, 0, BNB_HPARAM_LR) == 0.5);
    bnb_optimizer_destroy(opt);
}

/* A schedule changes lr and weight decay between steps; each parameter uses its own group's values.
 * The result is bitwise the spec driver run with the same schedule. */
static void schedules_take_effect_next_step(void** state) {
    (void)state;
    const int64_t n = 5000;
    test_rng rng;
    rng_seed(&rng, 12);
    test_buffer p[2] = {buffer_alloc(n, BNB_DTYPE_F32), buffer_alloc(n, BNB_DTYPE_F32)};
    test_buffer g[2] = {buffer_alloc(n, BNB_DTYPE_F32), buffer_alloc(n, BNB_DTYPE_F32)};
    test_buffer spec[2] = {buffer_alloc(n, BNB_DTYPE_F32), buffer_alloc(n, BNB_DTYPE_F32)};
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 8, 1, 1e-3, -1, 4096);
    int64_t group = 0;
    assert_int_equal(bnb_optimizer_add_group(opt, &group), BNB_OK);
    spec_param sp[2];
    spec_config h[2];
    for (int k = 0; k < 2; ++k) {
        memset(&h[k], 0, sizeof h[k]);
        h[k].algorithm = BNB_ALGO_ADAMW;
        h[k].lr = 1e-3;
        h[k].beta1 = 0.9;
        h[k].beta2 = 0.999;
        h[k].eps = 1e-8;
        h[k].weight_decay = 1e-2;
        h[k].percentile_clipping = 100;
    }
    for (int k = 0; k < 2; ++k) {
        fill_normal(&rng, &p[k], 0.1);
        buffer_copy(&spec[k], &p[k]);
        bnb_tensor tp = buffer_tensor(&p[k]), tg = buffer_tensor(&g[k]);
        assert_int_equal(bnb_optimizer_add_param(opt, k, &tp, &tg, NULL), BNB_OK);
        spec_param_init(&sp[k], &h[k], n, BNB_STATE_MODE_8BIT_BLOCKWISE);
    }
    for (int step = 1; step <= 6; ++step) {
        h[0].lr = 1e-3 * (1.0 + step) / 7.0; /* warm-up on group 0 */
        h[1].weight_decay = 0.1 * step;      /* growing decay on group 1 */
        h[1].beta2 = step > 3 ? 0.99 : 0.999;
        assert_int_equal(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_LR, h[0].lr), BNB_OK);
        assert_int_equal(bnb_optimizer_set_hparam(opt, 1, BNB_HPARAM_WEIGHT_DECAY, h[1].weight_decay), BNB_OK);
        assert_int_equal(bnb_optimizer_set_hparam(opt, 1, BNB_HPARAM_BETA2, h[1].beta2), BNB_OK);
        for (int k = 0; k < 2; ++k) {
            fill_normal(&rng, &g[k], 0.01);
            spec_step(&h[k], &sp[k], &spec[k], &g[k]);
        }
        assert_int_equal(bnb_step(opt), BNB_OK);
        for (int k = 0; k < 2; ++k) assert_true(buffer_equal_bits(&p[k], &spec[k]));
    }
    for (int k = 0; k < 2; ++k) {
        spec_param_free(&sp[k]);
        buffer_free(&p[k]);
        buffer_free(&g[k]);
        buffer_free(&spec[k]);
    }
    bnb_optimizer_destroy(opt);
}

/* Values beyond the float range (docs/extreme-values.md): finite doubles that would overflow when the
 * per-step scalars are rounded to fp32 are rejected, with a message naming the hyper-parameter and the
 * value, everywhere a hyper-parameter is set; FLT_MAX itself is accepted. */
static void beyond_float_range_rejected(void** state) {
    (void)state;
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 32, 1, 1e-3, -1, 4096);
    const double huge[] = {1e308, 3.5e38, nextafter((double)FLT_MAX, INFINITY)};
    for (size_t k = 0; k < 3; ++k) {
        assert_int_equal(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_LR, huge[k]), BNB_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(bnb_last_error_message(), "lr = "));
        assert_non_null(strstr(bnb_last_error_message(), "float range"));
        assert_true(get(opt, 0, BNB_HPARAM_LR) == 1e-3);
        assert_int_equal(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_EPS, huge[k]), BNB_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(bnb_last_error_message(), "eps = "));
    }
    assert_non_null(strstr(bnb_last_error_message(), "3.4028234663852886e+38"));
    assert_int_equal(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_WEIGHT_DECAY, (double)FLT_MAX), BNB_OK);
    assert_true(get(opt, 0, BNB_HPARAM_WEIGHT_DECAY) == (double)FLT_MAX);

    /* A per-parameter override, and the creation config. */
    test_buffer p = buffer_alloc(8, BNB_DTYPE_F32), g = buffer_alloc(8, BNB_DTYPE_F32);
    const int64_t index = add_param(opt, &p, &g);
    assert_int_equal(bnb_optimizer_set_param_override(opt, index, BNB_HPARAM_LR, 1e308), BNB_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(bnb_last_error_message(), "lr = "));
    bnb_optimizer_destroy(opt);
    buffer_free(&p);
    buffer_free(&g);

    bnb_optimizer_config cfg;
    assert_int_equal(bnb_optimizer_config_init(&cfg, BNB_ALGO_ADEMAMIX), BNB_OK);
    cfg.t_alpha = 1e39;
    bnb_optimizer* bad = NULL;
    assert_int_equal(bnb_optimizer_create(&cfg, &bad), BNB_ERR_INVALID_ARGUMENT);
    assert_null(bad);
    assert_non_null(strstr(bnb_last_error_message(), "config->t_alpha = "));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_get_round_trip),
        cmocka_unit_test(bounds_are_enforced),
        cmocka_unit_test(beyond_float_range_rejected),
        cmocka_unit_test(groups_are_independent),
        cmocka_unit_test(schedules_take_effect_next_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
