/* Extreme values (docs/extreme-values.md): every algorithm x state mode x parameter dtype x extreme
 * value, bit for bit against the spec driver, plus the contract's promises checked directly:
 *  - a gradient is usable only when g*g is finite (|g| < 2^64): NaN, +-Inf, 1e30 and 2^64 are counted
 *    and kept, the largest float below 2^64 and denormals are applied;
 *  - a lane whose new parameter or states are not finite (a NaN parameter, an overflowing sum of
 *    squares) is kept and counted; with weight decay on, so a NaN parameter meets the wd*p terms;
 *  - no finite parameter turns non-finite; kept elements are bitwise unchanged (parameter, and 32-bit
 *    states);
 *  - skip_step_on_nonfinite turns a step with an unusable gradient into a full no-op (parameters and
 *    every checkpoint byte), and does not look at parameters.
 * Registered once per CPU path (BNB8_CPU_ISA), so scalar, AVX2 and AVX-512 each meet the matrix.
 * argv[1], when given, is a CMocka test-name filter. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/family.h"
#include "support/optim_helpers.h"
#include "support/spec_driver.h"
#include "support/test_util.h"

#define N 600 /* three blocks: the spots are a block's first and last element and the tail's last */
static const int64_t kSpots[3] = {0, 255, N - 1};
static const bnb_dtype kDtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
static const int kModes[3][2] = {{32, 1}, {8, 1}, {8, 0}}; /* (optim_bits, block_wise) */

typedef enum target { IN_GRADIENT, IN_PARAM } target;

typedef struct extreme {
    const char* name;
    double value;
    target where;
    int repeat; /* 1: at the spots in every step from the second on (else only in the second) */
} extreme;

static const extreme kExtremes[] = {
    {"nan", NAN, IN_GRADIENT, 0},
    {"+inf", INFINITY, IN_GRADIENT, 0},
    {"-inf", -INFINITY, IN_GRADIENT, 0},
    {"1e30", 1e30, IN_GRADIENT, 0},
    {"2^64", 0x1p64, IN_GRADIENT, 0},                 /* the first unusable magnitude */
    {"-2^64", -0x1p64, IN_GRADIENT, 0},
    {"below 2^64", 0x1.fffffep63, IN_GRADIENT, 0},    /* the largest usable fp32 gradient */
    {"1.8e19 repeated", 1.8e19, IN_GRADIENT, 1},      /* usable; Adagrad's sum of squares overflows */
    {"denormal", 1e-40, IN_GRADIENT, 0},
    {"nan param", NAN, IN_PARAM, 0},
    {"huge param", 3e38, IN_PARAM, 0},
};

typedef struct snapshot {
    uint8_t* checkpoint;
    size_t size;
} snapshot;

static snapshot take_snapshot(const bnb_optimizer* opt) {
    snapshot s;
    assert_int_equal(bnb_state_serialized_size(opt, &s.size), BNB_OK);
    s.checkpoint = malloc(s.size);
    assert_non_null(s.checkpoint);
    assert_int_equal(bnb_state_save_to_buffer(opt, s.checkpoint, s.size, NULL), BNB_OK);
    return s;
}


static int64_t unusable_gradients(const test_buffer* g) {
    int64_t count = 0;
    for (int64_t i = 0; i < g->numel; ++i) count += !(fabs(buffer_get(g, i)) < 0x1p64); /* NaN: unusable */
    return count;
}

static void same_states_as_spec(const char* label, int step, const bnb_optimizer* opt, const spec_param* sp) {
    for (int state = 0; state < sp->num_states; ++state) {
        const int64_t count = (int64_t)sp->rows[state] * N;
        float* values = read_state(opt, 0, state + 1, count);
        for (int64_t i = 0; i < count; ++i) {
            const float expected = spec_state_value(sp, state, i);
            if (f32_to_bits(values[i]) != f32_to_bits(expected)) {
                fail_msg("%s step %d: state%d[%lld] = %a, spec %a", label, step, state + 1, (long long)i,
                         (double)values[i], (double)expected);
            }
            if (!isfinite(values[i])) fail_msg("%s step %d: state%d[%lld] = %a", label, step, state + 1, (long long)i,
                                               (double)values[i]);
        }
        free(values);
    }
}

/* One algorithm, mode, dtype and extreme value: three steps, the value entering at the second. */
static void run_case(const family_case* fc, int m, bnb_dtype dtype, const extreme* x, int skip_flag) {
    char label[160];
    snprintf(label, sizeof label, "%s bits=%d bw=%d %s %s%s", fc->name, kModes[m][0], kModes[m][1],
             dtype_label(dtype), x->name, skip_flag ? " skip_step_on_nonfinite" : "");
    spec_config c = family_spec_config(&fc->config);
    c.weight_decay = 0.01; /* a NaN parameter meets the wd*p terms */
    test_rng rng;
    rng_seed(&rng, 77 + (uint64_t)m * 3 + (uint64_t)dtype);
    test_buffer param = buffer_alloc(N, dtype), grad = buffer_alloc(N, dtype);
    test_buffer spec_p = buffer_alloc(N, dtype), before = buffer_alloc(N, dtype);
    fill_normal(&rng, &param, 0.1);
    buffer_copy(&spec_p, &param);
    bnb_optimizer* opt = family_optimizer_skipping(&c, kModes[m][0], kModes[m][1], skip_flag);
    add_param(opt, &param, &grad);
    spec_param sp;
    spec_param_init(&sp, &c, N, family_mode(kModes[m][0], kModes[m][1]));
    int skipped_steps = 0;
    for (int step = 1; step <= 3; ++step) {
        fill_normal(&rng, &grad, 0.01);
        const int inject = step == 2 || (step == 3 && x->repeat);
        if (inject) {
            for (int k = 0; k < 3; ++k) {
                if (x->where == IN_GRADIENT) {
                    buffer_set(&grad, kSpots[k], x->value);
                } else if (step == 2) {
                    buffer_set(&param, kSpots[k], x->value);
                    buffer_set(&spec_p, kSpots[k], x->value);
                }
            }
        }
        buffer_copy(&before, &param);
        float* state_before[2] = {NULL, NULL};
        for (int s = 0; s < sp.num_states; ++s) state_before[s] = read_state(opt, 0, s + 1, (int64_t)sp.rows[s] * N);
        const snapshot snap = take_snapshot(opt);
        const int64_t unusable = unusable_gradients(&grad);

        assert_int_equal(bnb_step(opt), BNB_OK);
        bnb_step_info info;
        info.struct_size = sizeof info;
        assert_int_equal(bnb_optimizer_last_step_info(opt, &info), BNB_OK);

        if (skip_flag && unusable > 0) {
            /* A full no-op: every parameter and checkpoint byte (states, absmax, counter) as before. */
            if (info.skipped != 1 || info.nonfinite_count != unusable) {
                fail_msg("%s step %d: skipped %d, count %lld, expected a skip counting %lld", label, step,
                         info.skipped, (long long)info.nonfinite_count, (long long)unusable);
            }
            assert_true(buffer_equal_bits(&param, &before));
            const snapshot after = take_snapshot(opt);
            assert_true(after.size == snap.size && memcmp(after.checkpoint, snap.checkpoint, snap.size) == 0);
            free(after.checkpoint);
            ++skipped_steps;
        } else {
            const int64_t spec_count = spec_step(&c, &sp, &spec_p, &grad);
            if (info.skipped != 0 || info.nonfinite_count != spec_count) {
                fail_msg("%s step %d: skipped %d, count %lld, spec count %lld", label, step, info.skipped,
                         (long long)info.nonfinite_count, (long long)spec_count);
            }
            if (spec_count < unusable) fail_msg("%s step %d: spec counts %lld < %lld unusable", label, step,
                                                (long long)spec_count, (long long)unusable);
            if (!buffer_equal_bits(&param, &spec_p)) fail_msg("%s step %d: parameters differ from the spec", label, step);
            same_states_as_spec(label, step, opt, &sp);
            for (int64_t i = 0; i < N; ++i) {
                const double b = buffer_get(&before, i), a = buffer_get(&param, i);
                if (isfinite(b) && !isfinite(a)) fail_msg("%s step %d: param[%lld] %a -> %a", label, step, (long long)i, b, a);
                const int kept = !(fabs(buffer_get(&grad, i)) < 0x1p64) || !isfinite(b);
                if (kept && memcmp(&b, &a, sizeof a) != 0) {
                    fail_msg("%s step %d: kept param[%lld] changed %a -> %a", label, step, (long long)i, b, a);
                }
                if (kept && kModes[m][0] == 32) {
                    for (int s = 0; s < sp.num_states; ++s) {
                        float* now = read_state(opt, 0, s + 1, (int64_t)sp.rows[s] * N);
                        for (int r = 0; r < sp.rows[s]; ++r) {
                            const int64_t j = (int64_t)r * N + i;
                            if (f32_to_bits(now[j]) != f32_to_bits(state_before[s][j])) {
                                fail_msg("%s step %d: kept state%d[%lld] changed", label, step, s + 1, (long long)j);
                            }
                        }
                        free(now);
                    }
                }
            }
            /* The counts the contract fixes: every unusable gradient; every non-finite parameter. */
            if (x->where == IN_PARAM && step >= 2 && !isfinite(buffer_get(&spec_p, kSpots[0]))) {
                assert_int_equal(info.nonfinite_count, 3);
            }
            if (fc->config.algorithm == BNB_ALGO_ADAGRAD && x->repeat && step == 3 && dtype != BNB_DTYPE_F16) {
                assert_int_equal(info.nonfinite_count, 3); /* v + g*g overflowed: kept after the rule */
            }
        }
        for (int s = 0; s < sp.num_states; ++s) free(state_before[s]);
        free(snap.checkpoint);
    }
    /* The flag skips exactly the steps with an unusable gradient. */
    if (skip_flag && x->where == IN_GRADIENT && fabs(x->value) >= 0x1p64) assert_true(skipped_steps >= 1);
    if (!skip_flag || x->where == IN_PARAM) assert_int_equal(skipped_steps, 0);
    bnb_optimizer_destroy(opt);
    spec_param_free(&sp);
    buffer_free(&param);
    buffer_free(&grad);
    buffer_free(&spec_p);
    buffer_free(&before);
}

static void matrix(int skip_flag) {
    int count = 0;
    const family_case* cases = family_cases(&count);
    for (int a = 0; a < count; ++a) {
        if (strcmp(cases[a].name, "ademamix_sched") == 0) continue; /* the 9 algorithms once each */
        for (int m = 0; m < 3; ++m) {
            for (size_t d = 0; d < sizeof kDtypes / sizeof kDtypes[0]; ++d) {
                for (size_t x = 0; x < sizeof kExtremes / sizeof kExtremes[0]; ++x) {
                    run_case(&cases[a], m, kDtypes[d], &kExtremes[x], skip_flag);
                }
            }
        }
    }
}

static void nonfinite_matrix(void** state) {
    (void)state;
    matrix(0);
}

static void nonfinite_matrix_skip_step(void** state) {
    (void)state;
    matrix(1);
}

/* The boundary itself, on fp32 gradients: the largest float below 2^64 is applied (count 0), 2^64 is
 * not; percentile clipping's norm leaves the unusable element out, so the gradient scale stays finite. */
static void nonfinite_boundary_and_clipping(void** state) {
    (void)state;
    spec_config c = family_spec_config(&family_cases(&(int){0})[0].config); /* adam */
    c.percentile_clipping = 5;
    const double values[2] = {0x1.fffffep63, 0x1p64};
    for (int v = 0; v < 2; ++v) {
        bnb_optimizer* opt = family_optimizer(&c, 8, 1);
        test_buffer param = buffer_alloc(N, BNB_DTYPE_F32), grad = buffer_alloc(N, BNB_DTYPE_F32);
        test_buffer spec_p = buffer_alloc(N, BNB_DTYPE_F32);
        test_rng rng;
        rng_seed(&rng, 5);
        fill_normal(&rng, &param, 0.1);
        buffer_copy(&spec_p, &param);
        add_param(opt, &param, &grad);
        spec_param sp;
        spec_param_init(&sp, &c, N, BNB_STATE_MODE_8BIT_BLOCKWISE);
        for (int step = 1; step <= 3; ++step) {
            fill_normal(&rng, &grad, 0.01);
            if (step == 2) buffer_set(&grad, 7, values[v]);
            const int64_t spec_count = spec_step(&c, &sp, &spec_p, &grad);
            assert_int_equal(bnb_step(opt), BNB_OK);
            bnb_step_info info;
            info.struct_size = sizeof info;
            assert_int_equal(bnb_optimizer_last_step_info(opt, &info), BNB_OK);
            assert_int_equal(info.nonfinite_count, spec_count);
            assert_int_equal(info.nonfinite_count, step == 2 ? v : 0);
            assert_true(buffer_equal_bits(&param, &spec_p));
            const bnb_param_info pi = param_info(opt, 0);
            assert_true(isfinite(pi.gradient_scale) && pi.gradient_scale == sp.last_gs);
            for (int64_t i = 0; i < N; ++i) assert_true(isfinite(buffer_get(&param, i)));
        }
        spec_param_free(&sp);
        bnb_optimizer_destroy(opt);
        buffer_free(&param);
        buffer_free(&grad);
        buffer_free(&spec_p);
    }
}

int main(int argc, char** argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nonfinite_matrix),
        cmocka_unit_test(nonfinite_matrix_skip_step),
        cmocka_unit_test(nonfinite_boundary_and_clipping),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
