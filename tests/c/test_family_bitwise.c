/* Every algorithm, state mode and dtype, bit for bit against the spec driver (tests/c/support/
 * spec_driver.c, written from ALGORITHMS.md without reading the library): parameter bits, every state
 * value, the non-finite count, the gradient scale, the trust ratio and the update norm, after every
 * step. Covered (acceptance ids of §13.2):
 *  - G1 tails: n in {0, 1, 255, 256, 257, 4097} and 1024 * 4097 + 13;
 *  - G4 NaN/+Inf/-Inf at a block's first and last element, in the tail and across a whole block; with
 *    skip_step_on_nonfinite the whole step changes nothing and the next finite step equals a run that
 *    never saw the bad one;
 *  - G5 skip_zeros with exact +0/-0 gradients (and zeros as ordinary gradients without it);
 *  - G2 LAMB and LARS with the cap active (1e-3), inactive (10) and off (0), and ||p|| = 0;
 *  - percentile clipping (percentile 5) in every algorithm and mode; hyper-parameter schedules;
 *  - SGD without momentum, with dampening, with nesterov.
 * argv[1], when given, is a CMocka test-name filter. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/family.h"
#include "support/optim_helpers.h"
#include "support/spec_driver.h"
#include "support/test_util.h"

static const bnb_dtype kDtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
static const int kModes[3][2] = {{32, 1}, {8, 1}, {8, 0}}; /* (optim_bits, block_wise) */

typedef enum gradient_pattern { PATTERN_PLAIN, PATTERN_NONFINITE, PATTERN_ZEROS } gradient_pattern;

typedef struct run {
    const char* label;
    spec_config config;
    int bits, block_wise;
    bnb_dtype dtype;
    int64_t n;
    int steps;
    gradient_pattern pattern;
    int schedule;     /* change lr (and betas where they exist) before every step */
    double param_scale;  /* initial parameters randn * param_scale (0: all zero) */
} run;

/* Injects NaN, +Inf, -Inf at a block's first and last element, in the tail and across a whole block,
 * or exact +0/-0 gradients; returns the number of non-finite elements injected. */
static int64_t inject(test_buffer* g, gradient_pattern pattern, int step) {
    const int64_t n = g->numel;
    if (n == 0 || pattern == PATTERN_PLAIN) return 0;
    if (pattern == PATTERN_ZEROS) {
        for (int64_t i = step % 3; i < n; i += 3) buffer_set(g, i, (i / 3) % 2 ? -0.0 : 0.0);
        return 0;
    }
    const double bad[3] = {NAN, INFINITY, -INFINITY};
    int64_t count = 0;
    const int64_t spots[4] = {0, n > 255 ? 255 : n - 1, n - 1, n > 600 ? 300 : -1};
    for (int k = 0; k < 4; ++k) {
        if (spots[k] < 0 || !isfinite(buffer_get(g, spots[k]))) continue;
        buffer_set(g, spots[k], bad[(k + step) % 3]);
        ++count;
    }
    if (n >= 1024) { /* a whole block */
        for (int64_t i = 512; i < 768; ++i) {
            if (isfinite(buffer_get(g, i))) {
                buffer_set(g, i, bad[i % 3]);
                ++count;
            }
        }
    }
    return count;
}

static void apply_schedule(spec_config* c, bnb_optimizer* opt, int step) {
    c->lr *= 1.0 + 0.25 * (double)(step % 3);
    assert_int_equal(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_LR, c->lr), BNB_OK);
    if (c->beta1 > 0.0 && c->algorithm != BNB_ALGO_SGD && c->algorithm != BNB_ALGO_LARS && c->algorithm != BNB_ALGO_RMSPROP &&
        c->algorithm != BNB_ALGO_ADAGRAD) {
        c->beta1 = step % 2 ? 0.85 : 0.9;
        assert_int_equal(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_BETA1, c->beta1), BNB_OK);
    }
}

static void fail_params(const run* r, int step, const test_buffer* a, const test_buffer* b) {
    for (int64_t i = 0; i < a->numel; ++i) {
        const double x = buffer_get(a, i), y = buffer_get(b, i);
        if (!(x == y || (isnan(x) && isnan(y))) || signbit(x) != signbit(y)) {
            fail_msg("%s %s bits=%d bw=%d n=%lld step %d: param[%lld] = %a, spec %a", r->label, dtype_label(r->dtype),
                     r->bits, r->block_wise, (long long)r->n, step, (long long)i, x, y);
        }
    }
    fail_msg("%s step %d: parameter bits differ (NaN payloads)", r->label, step);
}

static void compare_states(const run* r, int step, const bnb_optimizer* opt, const spec_param* sp) {
    for (int state = 0; state < sp->num_states; ++state) {
        const int64_t count = (int64_t)sp->rows[state] * r->n;
        float* values = read_state(opt, 0, state + 1, count);
        for (int64_t i = 0; i < count; ++i) {
            const float expected = spec_state_value(sp, state, i);
            const int same = f32_to_bits(values[i]) == f32_to_bits(expected) || (isnan(values[i]) && isnan(expected));
            if (!same) {
                fail_msg("%s %s bits=%d bw=%d n=%lld step %d: state%d[%lld] = %a, spec %a", r->label,
                         dtype_label(r->dtype), r->bits, r->block_wise, (long long)r->n, step, state + 1, (long long)i,
                         (double)values[i], (double)expected);
            }
        }
        free(values);
    }
}

static void compare_run(const run* r) {
    spec_config c = r->config;
    test_rng rng;
    rng_seed(&rng, 31 + (uint64_t)r->n * 3 + (uint64_t)r->dtype * 5 + (uint64_t)r->bits + (uint64_t)r->pattern);
    test_buffer param = buffer_alloc(r->n, r->dtype), grad = buffer_alloc(r->n, r->dtype);
    test_buffer spec_p = buffer_alloc(r->n, r->dtype);
    if (r->param_scale > 0) fill_normal(&rng, &param, r->param_scale);
    buffer_copy(&spec_p, &param);
    bnb_optimizer* opt = family_optimizer(&c, r->bits, r->block_wise);
    add_param(opt, &param, &grad);
    spec_param sp;
    spec_param_init(&sp, &c, r->n, family_mode(r->bits, r->block_wise));
    for (int step = 1; step <= r->steps; ++step) {
        fill_normal(&rng, &grad, 0.01 * (1.0 + 0.5 * (step % 4)));  /* varying norms exercise clipping */
        const int64_t injected = inject(&grad, r->pattern, step);
        if (r->schedule) apply_schedule(&c, opt, step);
        const int64_t spec_count = spec_step(&c, &sp, &spec_p, &grad);
        assert_int_equal(bnb_step(opt), BNB_OK);
        assert_int_equal(spec_count, injected);
        bnb_step_info info;
        info.struct_size = sizeof info;
        assert_int_equal(bnb_optimizer_last_step_info(opt, &info), BNB_OK);
        assert_int_equal(info.nonfinite_count, injected);
        assert_int_equal(info.skipped, 0);
        if (!buffer_equal_bits(&param, &spec_p)) fail_params(r, step, &param, &spec_p);
        compare_states(r, step, opt, &sp);
        const bnb_param_info pi = param_info(opt, 0);
        assert_int_equal(pi.num_states, sp.num_states);
        if (pi.gradient_scale != sp.last_gs || pi.trust_ratio != sp.last_trust_ratio ||
            pi.update_sq_norm != sp.last_update_sq_norm) {
            fail_msg("%s step %d: gs %a/%a trust %a/%a usq %a/%a (library/spec)", r->label, step, pi.gradient_scale,
                     sp.last_gs, pi.trust_ratio, sp.last_trust_ratio, pi.update_sq_norm, sp.last_update_sq_norm);
        }
    }
    spec_param_free(&sp);
    bnb_optimizer_destroy(opt);
    buffer_free(&param);
    buffer_free(&grad);
    buffer_free(&spec_p);
}

/* Every case x mode x dtype with the given sizes and pattern. */
static void sweep(const int64_t* sizes, int n_sizes, int steps, gradient_pattern pattern, int clip, int schedule) {
    int count = 0;
    const family_case* cases = family_cases(&count);
    for (int c = 0; c < count; ++c) {
        for (int m = 0; m < 3; ++m) {
            for (int d = 0; d < 3; ++d) {
                for (int s = 0; s < n_sizes; ++s) {
                    run r;
                    memset(&r, 0, sizeof r);
                    r.label = cases[c].name;
                    r.config = family_spec_config(&cases[c].config);
                    r.config.weight_decay = 0.1;
                    r.config.percentile_clipping = clip;
                    r.config.skip_zeros = pattern == PATTERN_ZEROS;
                    r.bits = kModes[m][0];
                    r.block_wise = kModes[m][1];
                    r.dtype = kDtypes[d];
                    r.n = sizes[s];
                    r.steps = steps;
                    r.pattern = pattern;
                    r.schedule = schedule;
                    r.param_scale = 0.1;
                    compare_run(&r);
                }
            }
        }
    }
}

static void family_tails(void** state) {
    (void)state;
    const int64_t sizes[] = {0, 1, 255, 256, 257, 4097};
    sweep(sizes, 6, 4, PATTERN_PLAIN, 100, 0);
}

static void family_nonfinite(void** state) {
    (void)state;
    const int64_t sizes[] = {1, 4097};
    sweep(sizes, 2, 5, PATTERN_NONFINITE, 100, 0);
}

static void family_skip_zeros(void** state) {
    (void)state;
    const int64_t sizes[] = {257, 4097};
    sweep(sizes, 2, 5, PATTERN_ZEROS, 100, 0);
}

static void family_percentile_clipping(void** state) {
    (void)state;
    const int64_t sizes[] = {300, 4097};
    sweep(sizes, 2, 8, PATTERN_PLAIN, 5, 0);
}

static void family_schedules(void** state) {
    (void)state;
    const int64_t sizes[] = {4097};
    sweep(sizes, 1, 6, PATTERN_NONFINITE, 100, 1);
}

static void family_large_tail(void** state) {
    (void)state;
    int count = 0;
    const family_case* cases = family_cases(&count);
    const int picks[][4] = {/* case index, bits, block_wise, dtype */
                            {6, 8, 1, BNB_DTYPE_BF16},  /* lion */
                            {9, 8, 0, BNB_DTYPE_F32},   /* ademamix with schedulers, tensor-wise */
                            {7, 8, 1, BNB_DTYPE_F16},   /* lamb */
                            {2, 32, 1, BNB_DTYPE_F32}}; /* sgd */
    for (size_t k = 0; k < sizeof picks / sizeof picks[0]; ++k) {
        run r;
        memset(&r, 0, sizeof r);
        r.label = cases[picks[k][0]].name;
        r.config = family_spec_config(&cases[picks[k][0]].config);
        r.config.weight_decay = 1e-2;
        r.bits = picks[k][1];
        r.block_wise = picks[k][2];
        r.dtype = (bnb_dtype)picks[k][3];
        r.n = 1024 * 4097 + 13; /* 16 388 full blocks and a 13-element tail */
        r.steps = 2;
        r.param_scale = 0.1;
        compare_run(&r);
    }
}

/* G2: LAMB and LARS with the cap active, inactive and off, and a parameter with ||p|| = 0, which
 * must stay bitwise unchanged (-0.0 included) while its states update. */
static void family_trust_ratio(void** state) {
    (void)state;
    const int32_t algorithms[] = {BNB_ALGO_LAMB, BNB_ALGO_LARS};
    const double caps[] = {1e-3, 10.0, 0.0};
    int count = 0;
    const family_case* cases = family_cases(&count);
    for (int a = 0; a < 2; ++a) {
        const family_case* fc = NULL;
        for (int c = 0; c < count; ++c) {
            if (cases[c].config.algorithm == algorithms[a]) fc = &cases[c];
        }
        for (int k = 0; k < 3; ++k) {
            for (int m = 0; m < 3; ++m) {
                for (int zero = 0; zero < 2; ++zero) {
                    run r;
                    memset(&r, 0, sizeof r);
                    r.label = fc->name;
                    r.config = family_spec_config(&fc->config);
                    r.config.max_unorm = caps[k];
                    r.config.weight_decay = 1e-2;
                    r.bits = kModes[m][0];
                    r.block_wise = kModes[m][1];
                    r.dtype = BNB_DTYPE_F32;
                    r.n = 5000;
                    r.steps = 4;
                    r.param_scale = zero ? 0.0 : 0.1;
                    compare_run(&r);
                }
            }
        }
    }
    /* ||p|| = 0 with the cap on: -0.0 parameters stay -0.0. */
    test_buffer p = buffer_alloc(300, BNB_DTYPE_BF16), g = buffer_alloc(300, BNB_DTYPE_BF16);
    test_rng rng;
    rng_seed(&rng, 3);
    for (int64_t i = 0; i < 300; ++i) buffer_set(&p, i, -0.0);
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_LAMB, 8, 1, 1e-3, 1e-2, 0);
    add_param(opt, &p, &g);
    fill_normal(&rng, &g, 0.01);
    assert_int_equal(bnb_step(opt), BNB_OK);
    for (int64_t i = 0; i < 300; ++i) assert_int_equal(((uint16_t*)p.data)[i], 0x8000);
    assert_true(param_info(opt, 0).trust_ratio == 0.0);
    assert_true(param_info(opt, 0).update_sq_norm > 0.0); /* the states did update */
    bnb_optimizer_destroy(opt);
    buffer_free(&p);
    buffer_free(&g);
}

/* SGD variants: no momentum (no state), dampening, nesterov. */
static void family_sgd_variants(void** state) {
    (void)state;
    const double momenta[] = {0.0, 0.9, 0.9};
    const double dampenings[] = {0.0, 0.5, 0.0};
    const int nesterovs[] = {0, 0, 1};
    for (int v = 0; v < 3; ++v) {
        for (int m = 0; m < 3; ++m) {
            for (int d = 0; d < 3; ++d) {
                run r;
                memset(&r, 0, sizeof r);
                r.label = "sgd variant";
                r.config.algorithm = BNB_ALGO_SGD;
                r.config.lr = 0.01;
                r.config.momentum = momenta[v];
                r.config.dampening = dampenings[v];
                r.config.nesterov = nesterovs[v];
                r.config.weight_decay = 1e-2;
                r.config.percentile_clipping = 100;
                r.bits = kModes[m][0];
                r.block_wise = kModes[m][1];
                r.dtype = kDtypes[d];
                r.n = 4097;
                r.steps = 4;
                r.pattern = PATTERN_NONFINITE;
                r.param_scale = 0.1;
                compare_run(&r);
            }
        }
    }
}

/* G4 with skip_step_on_nonfinite: a step whose gradients hold a NaN changes nothing at all (every
 * parameter bit, state byte, absmax, clipping history and step counter: the checkpoint bytes are
 * identical), reports the count, and the next finite step equals a run that never saw it. */
static void family_skip_step_on_nonfinite(void** state) {
    (void)state;
    int count = 0;
    const family_case* cases = family_cases(&count);
    for (int c = 0; c < count; ++c) {
        for (int m = 0; m < 3; ++m) {
            spec_config config = family_spec_config(&cases[c].config);
            config.percentile_clipping = 10;
            bnb_optimizer_config cfg;
            test_rng rng;
            rng_seed(&rng, 5);
            test_buffer p1 = buffer_alloc(1000, BNB_DTYPE_F32), p2 = buffer_alloc(1000, BNB_DTYPE_F32);
            test_buffer g = buffer_alloc(1000, BNB_DTYPE_F32), bad = buffer_alloc(1000, BNB_DTYPE_F32);
            fill_normal(&rng, &p1, 0.1);
            buffer_copy(&p2, &p1);
            bnb_optimizer* with_bad = family_optimizer(&config, kModes[m][0], kModes[m][1]);
            bnb_optimizer* clean = family_optimizer(&config, kModes[m][0], kModes[m][1]);
            /* family_optimizer has skip_step_on_nonfinite off: rebuild the first one with it on. */
            cfg.struct_size = sizeof cfg;
            assert_int_equal(bnb_optimizer_get_config(with_bad, &cfg), BNB_OK);
            cfg.skip_step_on_nonfinite = 1;
            bnb_optimizer_destroy(with_bad);
            assert_int_equal(bnb_optimizer_create(&cfg, &with_bad), BNB_OK);
            add_param(with_bad, &p1, &g);
            add_param(clean, &p2, &g);
            for (int step = 0; step < 3; ++step) {
                fill_normal(&rng, &g, 0.01);
                assert_int_equal(bnb_step(with_bad), BNB_OK);
                assert_int_equal(bnb_step(clean), BNB_OK);
            }
            size_t before_size = 0, after_size = 0;
            unsigned char* before = serialize_state(with_bad, &before_size);
            buffer_copy(&bad, &p1);
            fill_normal(&rng, &g, 0.01);
            buffer_set(&g, 17, NAN);
            buffer_set(&g, 999, -INFINITY);
            bnb_tensor tp = buffer_tensor(&p1), tb = buffer_tensor(&g);
            assert_int_equal(bnb_optimizer_bind_param(with_bad, 0, &tp, &tb), BNB_OK);
            assert_int_equal(bnb_step(with_bad), BNB_OK);
            bnb_step_info info;
            info.struct_size = sizeof info;
            assert_int_equal(bnb_optimizer_last_step_info(with_bad, &info), BNB_OK);
            assert_int_equal(info.nonfinite_count, 2);
            assert_int_equal(info.skipped, 1);
            assert_int_equal(info.params_stepped, 0);
            unsigned char* after = serialize_state(with_bad, &after_size);
            assert_int_equal(before_size, after_size);
            assert_memory_equal(before, after, before_size);
            assert_true(buffer_equal_bits(&p1, &bad));
            free(before);
            free(after);
            for (int step = 0; step < 2; ++step) {
                fill_normal(&rng, &g, 0.01);
                assert_int_equal(bnb_step(with_bad), BNB_OK);
                assert_int_equal(bnb_step(clean), BNB_OK);
                assert_int_equal(bnb_optimizer_last_step_info(with_bad, &info), BNB_OK);
                assert_int_equal(info.skipped, 0);
                assert_int_equal(info.params_stepped, 1);
                assert_true(buffer_equal_bits(&p1, &p2));
            }
            assert_int_equal(param_info(with_bad, 0).step, 5);
            bnb_optimizer_destroy(with_bad);
            bnb_optimizer_destroy(clean);
            buffer_free(&p1);
            buffer_free(&p2);
            buffer_free(&g);
            buffer_free(&bad);
        }
    }
}

/* Two runs from the same inputs give the same bytes (parameters, states, absmax, histories), for
 * every algorithm and mode. */
static void family_reruns(void** state) {
    (void)state;
    int count = 0;
    const family_case* cases = family_cases(&count);
    for (int c = 0; c < count; ++c) {
        for (int m = 0; m < 3; ++m) {
            spec_config config = family_spec_config(&cases[c].config);
            config.percentile_clipping = 50;
            unsigned char* bytes[2];
            size_t sizes[2];
            test_buffer params[2];
            for (int r = 0; r < 2; ++r) {
                test_rng rng;
                rng_seed(&rng, 8);
                params[r] = buffer_alloc(70000, BNB_DTYPE_F16);
                test_buffer g = buffer_alloc(70000, BNB_DTYPE_F16);
                fill_normal(&rng, &params[r], 0.1);
                bnb_optimizer* opt = family_optimizer(&config, kModes[m][0], kModes[m][1]);
                add_param(opt, &params[r], &g);
                for (int step = 0; step < 5; ++step) {
                    fill_normal(&rng, &g, 0.01);
                    assert_int_equal(bnb_step(opt), BNB_OK);
                }
                bytes[r] = serialize_state(opt, &sizes[r]);
                bnb_optimizer_destroy(opt);
                buffer_free(&g);
            }
            assert_int_equal(sizes[0], sizes[1]);
            assert_memory_equal(bytes[0], bytes[1], sizes[0]);
            assert_true(buffer_equal_bits(&params[0], &params[1]));
            for (int r = 0; r < 2; ++r) {
                free(bytes[r]);
                buffer_free(&params[r]);
            }
        }
    }
}

int main(int argc, char** argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(family_reruns),
        cmocka_unit_test(family_tails),
        cmocka_unit_test(family_nonfinite),
        cmocka_unit_test(family_skip_zeros),
        cmocka_unit_test(family_percentile_clipping),
        cmocka_unit_test(family_schedules),
        cmocka_unit_test(family_large_tail),
        cmocka_unit_test(family_trust_ratio),
        cmocka_unit_test(family_sgd_variants),
        cmocka_unit_test(family_skip_step_on_nonfinite),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
