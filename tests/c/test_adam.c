/* Adam and AdamW on the CPU, against independent references (ALGORITHMS.md §13):
 *
 *  - a1_*: 32-bit states vs the float64 torch algorithm, 20 steps on [1024, d], d in {32, 1024, 4097}.
 *    Tolerances (spec A1): fp32 atol 1e-6 rtol 1e-5, fp16 1e-4/1e-3, bf16 1e-3/1e-2; states must all be
 *    close, params may have <= 15 mismatches. fp32 arithmetic against float64 drifts by a few ulp per
 *    step (|p| ~ 0.1, ulp 7e-9), two orders below atol + rtol*|p|, so the bounds cannot pass by luck and
 *    a wrong bias correction, decay form or beta fails them by orders of magnitude.
 *  - a3_*: 8-bit states vs float64 over 50 steps with the spec's A3 protocol: the reference steps from
 *    the library's dequantized states, so each step measures one step's quantization error: < 20 state
 *    elements outside atol 3e-3 / rtol 1e-3, mean |dp| < 6e-5 (bf16 1.7e-4) and mean relative
 *    |dp| < 6e-4 (bf16 1.6e-3).
 *  - A1 and A3 also save, load into a new optimizer and continue with it at the spec's steps; the loaded
 *    optimizer must serialize to the same bytes (stronger than the spec's mismatch counts).
 *  - spec_*: bit-for-bit equality with the scalar driver written from the spec (tests/c/support), for
 *    sizes that end mid-block, every dtype and mode, and non-finite gradients.
 *  - behaviour: min_8bit_size boundary, parameters without a gradient, zero-element parameters,
 *    bitwise-identical reruns, state memory of the 8-bit mode.
 *
 * argv[1], when given, is a CMocka test-name filter (glob), so ctest can run subsets in parallel. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/optim_helpers.h"
#include "support/family.h"
#include "support/reference64.h"
#include "support/spec_driver.h"
#include "support/test_util.h"

static const bnb_algorithm kAlgorithms[] = {BNB_ALGO_ADAM, BNB_ALGO_ADAMW};
static const bnb_dtype kDtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
static const int64_t kColumns[] = {32, 1024, 4097};

static ref64_config default_hparams(bnb_algorithm algorithm) {
    ref64_config h;
    memset(&h, 0, sizeof h);
    h.algorithm = algorithm;
    h.lr = 1e-3;
    h.beta1 = 0.9;
    h.beta2 = 0.999;
    h.eps = 1e-8;
    h.weight_decay = algorithm == BNB_ALGO_ADAMW ? 1e-2 : 0.0;
    return h;
}

static void a1_tolerance(bnb_dtype dtype, double* atol, double* rtol) {
    switch (dtype) {
        case BNB_DTYPE_F32: *atol = 1e-6; *rtol = 1e-5; return;
        case BNB_DTYPE_F16: *atol = 1e-4; *rtol = 1e-3; return;
        case BNB_DTYPE_BF16: *atol = 1e-3; *rtol = 1e-2; return;
    }
}

static const char* algo_label(bnb_algorithm a) { return a == BNB_ALGO_ADAM ? "adam" : "adamw"; }

/* ---- A1: 32-bit states vs float64 ---------------------------------------------------------------- */

/* A parameter trained by the library beside its float64 reference: the library's buffers in the test
 * dtype, the reference's p, m, v and the current gradient g in double. */
typedef struct trajectory {
    int64_t n;
    test_rng rng;
    test_buffer param, grad;
    double *p, *g;
    ref64_param ref; /* m = ref.slot[0], v = ref.slot[1] */
} trajectory;

/* Params randn * 0.1 in the dtype; the reference starts from their exact values and zero states. */
static void trajectory_init(trajectory* t, const ref64_config* h, int64_t n, bnb_dtype dtype, uint64_t seed) {
    t->n = n;
    rng_seed(&t->rng, seed);
    t->param = buffer_alloc(n, dtype);
    t->grad = buffer_alloc(n, dtype);
    fill_normal(&t->rng, &t->param, 0.1);
    t->p = malloc(sizeof(double) * (size_t)n);
    t->g = malloc(sizeof(double) * (size_t)n);
    ref64_param_init(&t->ref, h, n);
    for (int64_t i = 0; i < n; ++i) t->p[i] = buffer_get(&t->param, i);
}

/* A new gradient randn * 0.01 in the dtype, and its exact value for the reference. */
static void trajectory_next_grad(trajectory* t) {
    fill_normal(&t->rng, &t->grad, 0.01);
    for (int64_t i = 0; i < t->n; ++i) t->g[i] = buffer_get(&t->grad, i);
}

/* The reference parameter rounded to the dtype, copied into the library's parameter (spec protocol). */
static void trajectory_sync_param(trajectory* t) {
    for (int64_t i = 0; i < t->n; ++i) {
        t->p[i] = round_to_dtype(t->p[i], t->param.dtype);
        buffer_set(&t->param, i, t->p[i]);
    }
}

static void trajectory_free(trajectory* t) {
    buffer_free(&t->param);
    buffer_free(&t->grad);
    free(t->p);
    free(t->g);
    ref64_param_free(&t->ref);
}

/* Spec protocols: save, load into a new optimizer built the same way, check the bytes, continue with it. */
static bnb_optimizer* reload(bnb_optimizer* opt, bnb_algorithm algorithm, int bits, int block_wise,
                             const ref64_config* h, trajectory* t) {
    bnb_optimizer* fresh = make_optimizer(algorithm, bits, block_wise, h->lr, h->weight_decay, 4096);
    add_param(fresh, &t->param, &t->grad);
    assert_checkpoint_round_trip(opt, fresh);
    bnb_optimizer_destroy(opt);
    return fresh;
}

static void run_a1(bnb_algorithm algorithm, bnb_dtype dtype, int64_t cols, double weight_decay) {
    ref64_config h = default_hparams(algorithm);
    h.weight_decay = weight_decay;
    double atol = 0.0, rtol = 0.0;
    a1_tolerance(dtype, &atol, &rtol);
    trajectory t;
    trajectory_init(&t, &h, 1024 * cols, dtype, 1000 + (uint64_t)cols * 7 + (uint64_t)dtype);
    bnb_optimizer* opt = make_optimizer(algorithm, 32, 1, h.lr, h.weight_decay, 4096);
    add_param(opt, &t.param, &t.grad);
    for (int step = 1; step <= 20; ++step) {
        trajectory_next_grad(&t);
        ref64_step(&h, &t.ref, t.p, t.g, 1.0, 0);
        assert_int_equal(bnb_step(opt), BNB_OK);

        float* sm = read_state(opt, 0, 1, t.n);
        float* sv = read_state(opt, 0, 2, t.n);
        int64_t state_bad = 0, param_bad = 0;
        for (int64_t i = 0; i < t.n; ++i) {
            state_bad += !is_close(sm[i], t.ref.slot[0][i], atol, rtol);
            state_bad += !is_close(sv[i], t.ref.slot[1][i], atol, rtol);
            param_bad += !is_close(buffer_get(&t.param, i), t.p[i], atol, rtol);
        }
        free(sm);
        free(sv);
        if (state_bad != 0 || param_bad > 15) {
            fail_msg("A1 %s %s [1024,%lld] wd=%g step %d: %lld state and %lld param mismatches",
                     algo_label(algorithm), dtype_label(dtype), (long long)cols, weight_decay, step,
                     (long long)state_bad, (long long)param_bad);
        }
        if (dtype != BNB_DTYPE_F32) trajectory_sync_param(&t);
        if (step % 4 == 0 && step < 20) opt = reload(opt, algorithm, 32, 1, &h, &t); /* steps 4, 8, 12, 16 */
    }
    bnb_optimizer_destroy(opt);
    trajectory_free(&t);
}

static void a1_all(bnb_algorithm algorithm) {
    for (size_t d = 0; d < 3; ++d) {
        for (size_t c = 0; c < 3; ++c) run_a1(algorithm, kDtypes[d], kColumns[c], default_hparams(algorithm).weight_decay);
    }
    /* Weight decay on the other side of each algorithm's default, so both decay forms are exercised. */
    run_a1(algorithm, BNB_DTYPE_F32, 32, algorithm == BNB_ALGO_ADAM ? 1e-2 : 0.0);
    run_a1(algorithm, BNB_DTYPE_F32, 32, 0.1);
}

static void a1_adam(void** state) { (void)state; a1_all(BNB_ALGO_ADAM); }
static void a1_adamw(void** state) { (void)state; a1_all(BNB_ALGO_ADAMW); }

/* Swapping coupled and decoupled decay must break A1: the references are not interchangeable. */
static void a1_detects_swapped_decay(void** state) {
    (void)state;
    ref64_config h = default_hparams(BNB_ALGO_ADAMW);
    h.weight_decay = 0.1;
    ref64_config wrong = h;
    wrong.algorithm = BNB_ALGO_ADAM; /* coupled decay: the wrong reference */
    trajectory t;
    trajectory_init(&t, &wrong, 1024 * 32, BNB_DTYPE_F32, 77);
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 32, 1, h.lr, h.weight_decay, 4096);
    add_param(opt, &t.param, &t.grad);
    for (int step = 1; step <= 20; ++step) {
        trajectory_next_grad(&t);
        ref64_step(&wrong, &t.ref, t.p, t.g, 1.0, 0);
        assert_int_equal(bnb_step(opt), BNB_OK);
    }
    int64_t param_bad = 0;
    for (int64_t i = 0; i < t.n; ++i) param_bad += !is_close(buffer_get(&t.param, i), t.p[i], 1e-6, 1e-5);
    assert_true(param_bad > t.n / 2);
    bnb_optimizer_destroy(opt);
    trajectory_free(&t);
}

/* ---- A3: 8-bit states vs float64 ----------------------------------------------------------------- */

static void run_a3(bnb_algorithm algorithm, bnb_dtype dtype, int64_t cols, int block_wise) {
    const ref64_config h = default_hparams(algorithm);
    const double max_mean_err = dtype == BNB_DTYPE_BF16 ? 1.7e-4 : 6e-5;
    const double max_mean_rel = dtype == BNB_DTYPE_BF16 ? 1.6e-3 : 6e-4;
    trajectory t;
    trajectory_init(&t, &h, 1024 * cols, dtype, 5000 + (uint64_t)cols * 3 + (uint64_t)dtype * 11 + (uint64_t)block_wise);
    bnb_optimizer* opt = make_optimizer(algorithm, 8, block_wise, h.lr, h.weight_decay, 4096);
    add_param(opt, &t.param, &t.grad);
    for (int step = 1; step <= 50; ++step) {
        trajectory_next_grad(&t);
        ref64_step(&h, &t.ref, t.p, t.g, 1.0, 0);
        assert_int_equal(bnb_step(opt), BNB_OK);

        float* sm = read_state(opt, 0, 1, t.n);
        float* sv = read_state(opt, 0, 2, t.n);
        int64_t bad_m = 0, bad_v = 0;
        double sum_err = 0.0, sum_rel = 0.0;
        for (int64_t i = 0; i < t.n; ++i) {
            bad_m += !is_close(sm[i], t.ref.slot[0][i], 3e-3, 1e-3);
            bad_v += !is_close(sv[i], t.ref.slot[1][i], 3e-3, 1e-3);
            const double e = fabs(t.p[i] - buffer_get(&t.param, i));
            sum_err += e;
            sum_rel += e / (fabs(t.p[i]) + 1e-9);
        }
        const double mean_err = sum_err / (double)t.n, mean_rel = sum_rel / (double)t.n;
        if (bad_m >= 20 || bad_v >= 20 || !(mean_err < max_mean_err) || !(mean_rel < max_mean_rel)) {
            fail_msg("A3 %s %s [1024,%lld] %s step %d: state mismatches m=%lld v=%lld, mean err %.3g "
                     "(< %.3g), mean rel %.3g (< %.3g)",
                     algo_label(algorithm), dtype_label(dtype), (long long)cols,
                     block_wise ? "blockwise" : "tensorwise", step, (long long)bad_m, (long long)bad_v,
                     mean_err, max_mean_err, mean_rel, max_mean_rel);
        }
        /* Protocol: the reference continues from the library's param (rounded) and dequantized states. */
        trajectory_sync_param(&t);
        for (int64_t i = 0; i < t.n; ++i) {
            t.ref.slot[0][i] = sm[i];
            t.ref.slot[1][i] = sv[i];
        }
        free(sm);
        free(sv);
        if (step % 10 == 0 && step < 50) opt = reload(opt, algorithm, 8, block_wise, &h, &t); /* 10, 20, 30, 40 */
    }
    const bnb_param_info info = param_info(opt, 0);
    assert_int_equal(info.state_mode, block_wise ? BNB_STATE_MODE_8BIT_BLOCKWISE : BNB_STATE_MODE_8BIT_TENSORWISE);
    assert_int_equal(info.step, 50);
    bnb_optimizer_destroy(opt);
    trajectory_free(&t);
}

static void a3_for(bnb_algorithm algorithm, bnb_dtype dtype) {
    for (size_t c = 0; c < 3; ++c) run_a3(algorithm, dtype, kColumns[c], 1);
    run_a3(algorithm, dtype, 1024, 0); /* tensor-wise: one absmax per state */
}

static void a3_adam_f32(void** s) { (void)s; a3_for(BNB_ALGO_ADAM, BNB_DTYPE_F32); }
static void a3_adam_f16(void** s) { (void)s; a3_for(BNB_ALGO_ADAM, BNB_DTYPE_F16); }
static void a3_adam_bf16(void** s) { (void)s; a3_for(BNB_ALGO_ADAM, BNB_DTYPE_BF16); }
static void a3_adamw_f32(void** s) { (void)s; a3_for(BNB_ALGO_ADAMW, BNB_DTYPE_F32); }
static void a3_adamw_f16(void** s) { (void)s; a3_for(BNB_ALGO_ADAMW, BNB_DTYPE_F16); }
static void a3_adamw_bf16(void** s) { (void)s; a3_for(BNB_ALGO_ADAMW, BNB_DTYPE_BF16); }

/* ---- bitwise against the spec's scalar driver ---------------------------------------------------- */

/* Runs `steps` steps of the library and the spec driver from the same inputs; every parameter bit and
 * every state value must be identical. `poison` puts NaN/+Inf/-Inf into some gradients. */
static void run_spec_compare(bnb_algorithm algorithm, bnb_dtype dtype, int64_t n, bnb_state_mode mode, int steps,
                             double weight_decay, int poison) {
    ref64_config h = default_hparams(algorithm);
    h.weight_decay = weight_decay;
    const spec_config sc = family_spec_config(&h);
    test_rng rng;
    rng_seed(&rng, 900 + (uint64_t)n + (uint64_t)mode * 13 + (uint64_t)dtype * 101);
    test_buffer param = buffer_alloc(n, dtype), grad = buffer_alloc(n, dtype);
    test_buffer spec_p = buffer_alloc(n, dtype);
    fill_normal(&rng, &param, 0.1);
    buffer_copy(&spec_p, &param);
    const int bits = mode == BNB_STATE_MODE_32BIT ? 32 : 8;
    bnb_optimizer* opt = make_optimizer(algorithm, bits, mode != BNB_STATE_MODE_8BIT_TENSORWISE, h.lr, weight_decay, 0);
    add_param(opt, &param, &grad);
    spec_param sp;
    spec_param_init(&sp, &sc, n, mode);
    for (int step = 1; step <= steps; ++step) {
        fill_normal(&rng, &grad, step == 1 ? 0.01 : 0.01 * step);
        if (poison && n > 0) {
            const double bad[3] = {NAN, INFINITY, -INFINITY};
            buffer_set(&grad, 0, bad[step % 3]);
            buffer_set(&grad, n - 1, bad[(step + 1) % 3]);
            if (n > 300) buffer_set(&grad, 256, bad[(step + 2) % 3]);
        }
        const int64_t spec_nonfinite = spec_step(&sc, &sp, &spec_p, &grad);
        assert_int_equal(bnb_step(opt), BNB_OK);
        assert_true(poison ? spec_nonfinite > 0 : spec_nonfinite == 0);
        if (!buffer_equal_bits(&param, &spec_p)) {
            for (int64_t i = 0; i < n; ++i) {
                if (buffer_get(&param, i) != buffer_get(&spec_p, i)) {
                    fail_msg("spec %s %s n=%lld mode=%d step %d: param %lld is %.9g, spec %.9g", algo_label(algorithm),
                             dtype_label(dtype), (long long)n, (int)mode, step, (long long)i, buffer_get(&param, i),
                             buffer_get(&spec_p, i));
                }
            }
            fail_msg("spec %s: parameter bits differ (NaN payload)", algo_label(algorithm));
        }
        for (int state = 1; state <= 2; ++state) {
            float* values = read_state(opt, 0, state, n);
            for (int64_t i = 0; i < n; ++i) {
                const float expected = spec_state_value(&sp, state - 1, i);
                if (f32_to_bits(values[i]) != f32_to_bits(expected)) {
                    fail_msg("spec %s %s n=%lld mode=%d step %d: state%d[%lld] = %.9g, spec %.9g", algo_label(algorithm),
                             dtype_label(dtype), (long long)n, (int)mode, step, state, (long long)i, values[i],
                             expected);
                }
            }
            free(values);
        }
    }
    spec_param_free(&sp);
    bnb_optimizer_destroy(opt);
    buffer_free(&param);
    buffer_free(&grad);
    buffer_free(&spec_p);
}

static void spec_tails(void** state) {
    (void)state;
    const int64_t sizes[] = {0, 1, 255, 256, 257, 4097};
    const bnb_state_mode modes[] = {BNB_STATE_MODE_32BIT, BNB_STATE_MODE_8BIT_BLOCKWISE, BNB_STATE_MODE_8BIT_TENSORWISE};
    for (size_t a = 0; a < 2; ++a)
        for (size_t d = 0; d < 3; ++d)
            for (size_t m = 0; m < 3; ++m)
                for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s)
                    run_spec_compare(kAlgorithms[a], kDtypes[d], sizes[s], modes[m], 4, 0.1, 0);
}

static void spec_large_tail(void** state) {
    (void)state;
    /* 1024 * 4097 + 13 elements: 16 388 full blocks and a 13-element tail. */
    run_spec_compare(BNB_ALGO_ADAMW, BNB_DTYPE_F32, 1024 * 4097 + 13, BNB_STATE_MODE_8BIT_BLOCKWISE, 2, 1e-2, 0);
    run_spec_compare(BNB_ALGO_ADAM, BNB_DTYPE_BF16, 1024 * 4097 + 13, BNB_STATE_MODE_8BIT_BLOCKWISE, 2, 0.0, 0);
}

static void spec_nonfinite(void** state) {
    (void)state;
    const bnb_state_mode modes[] = {BNB_STATE_MODE_32BIT, BNB_STATE_MODE_8BIT_BLOCKWISE, BNB_STATE_MODE_8BIT_TENSORWISE};
    for (size_t a = 0; a < 2; ++a)
        for (size_t d = 0; d < 3; ++d)
            for (size_t m = 0; m < 3; ++m) run_spec_compare(kAlgorithms[a], kDtypes[d], 4097, modes[m], 6, 1e-2, 1);
}

/* Non-finite gradients keep their element: the parameter bits and 32-bit states do not change. */
static void behaviour_nonfinite_keeps_elements(void** state) {
    (void)state;
    const int64_t n = 600;
    test_rng rng;
    rng_seed(&rng, 4);
    test_buffer param = buffer_alloc(n, BNB_DTYPE_F32), grad = buffer_alloc(n, BNB_DTYPE_F32);
    fill_normal(&rng, &param, 0.1);
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 32, 1, 1e-3, 1e-2, 4096);
    add_param(opt, &param, &grad);
    fill_normal(&rng, &grad, 0.01);
    assert_int_equal(bnb_step(opt), BNB_OK);
    float* m_before = read_state(opt, 0, 1, n);
    const int64_t bad[] = {0, 255, 256, 511, 599};
    float before[5];
    fill_normal(&rng, &grad, 0.01);
    for (int k = 0; k < 5; ++k) {
        before[k] = ((float*)param.data)[bad[k]];
        buffer_set(&grad, bad[k], k % 2 ? INFINITY : NAN);
    }
    assert_int_equal(bnb_step(opt), BNB_OK);
    float* m_after = read_state(opt, 0, 1, n);
    for (int k = 0; k < 5; ++k) {
        assert_int_equal(f32_to_bits(((float*)param.data)[bad[k]]), f32_to_bits(before[k]));
        assert_int_equal(f32_to_bits(m_after[bad[k]]), f32_to_bits(m_before[bad[k]]));
    }
    assert_true(m_after[1] != m_before[1]); /* a finite neighbour did move */
    free(m_before);
    free(m_after);
    bnb_optimizer_destroy(opt);
    buffer_free(&param);
    buffer_free(&grad);
}

/* ---- behaviour ----------------------------------------------------------------------------------- */

static void behaviour_min_8bit_size_boundary(void** state) {
    (void)state;
    test_buffer p1 = buffer_alloc(4095, BNB_DTYPE_F32), g1 = buffer_alloc(4095, BNB_DTYPE_F32);
    test_buffer p2 = buffer_alloc(4096, BNB_DTYPE_F32), g2 = buffer_alloc(4096, BNB_DTYPE_F32);
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 8, 1, 1e-3, -1, 4096);
    add_param(opt, &p1, &g1);
    add_param(opt, &p2, &g2);
    assert_int_equal(param_info(opt, 0).state_mode, BNB_STATE_MODE_NONE);
    assert_int_equal(bnb_step(opt), BNB_OK);
    const bnb_param_info small = param_info(opt, 0), large = param_info(opt, 1);
    assert_int_equal(small.state_mode, BNB_STATE_MODE_32BIT);
    assert_int_equal(small.state_bytes, 4095 * 8);
    assert_int_equal(large.state_mode, BNB_STATE_MODE_8BIT_BLOCKWISE);
    assert_int_equal(large.state_bytes, 4096 * 2 + 16 * 4 * 2);
    int64_t total = 0;
    assert_int_equal(bnb_optimizer_state_bytes(opt, &total), BNB_OK);
    assert_int_equal(total, small.state_bytes + large.state_bytes);
    bnb_optimizer_destroy(opt);
    buffer_free(&p1);
    buffer_free(&g1);
    buffer_free(&p2);
    buffer_free(&g2);
}

/* 8-bit states take 2 bytes + 8/256 per element against 8 for fp32: about 25.4 %. */
static void behaviour_state_memory_ratio(void** state) {
    (void)state;
    const int64_t n = 1 << 20;
    test_buffer p = buffer_alloc(n, BNB_DTYPE_F32), g = buffer_alloc(n, BNB_DTYPE_F32);
    bnb_optimizer* o8 = make_optimizer(BNB_ALGO_ADAMW, 8, 1, 1e-3, -1, 4096);
    bnb_optimizer* o32 = make_optimizer(BNB_ALGO_ADAMW, 32, 1, 1e-3, -1, 4096);
    add_param(o8, &p, &g);
    add_param(o32, &p, &g);
    assert_int_equal(bnb_step(o8), BNB_OK);
    assert_int_equal(bnb_step(o32), BNB_OK);
    int64_t b8 = 0, b32 = 0;
    assert_int_equal(bnb_optimizer_state_bytes(o8, &b8), BNB_OK);
    assert_int_equal(bnb_optimizer_state_bytes(o32, &b32), BNB_OK);
    assert_int_equal(b32, n * 8);
    assert_int_equal(b8, n * 2 + (n / 256) * 8);
    assert_true((double)b8 / (double)b32 < 0.26);
    bnb_optimizer_destroy(o8);
    bnb_optimizer_destroy(o32);
    buffer_free(&p);
    buffer_free(&g);
}

/* A parameter without a gradient keeps its counter, states and values; bias correction uses each
 * parameter's own t (ALGORITHMS.md §5.5, G11). */
static void behaviour_params_without_grad_are_skipped(void** state) {
    (void)state;
    const int64_t n = 5000;
    test_rng rng;
    rng_seed(&rng, 8);
    test_buffer pa = buffer_alloc(n, BNB_DTYPE_F32), ga = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer pb = buffer_alloc(n, BNB_DTYPE_F32), gb = buffer_alloc(n, BNB_DTYPE_F32);
    test_buffer spec_b = buffer_alloc(n, BNB_DTYPE_F32);
    fill_normal(&rng, &pa, 0.1);
    fill_normal(&rng, &pb, 0.1);
    buffer_copy(&spec_b, &pb);
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 8, 1, 1e-3, -1, 4096);
    add_param(opt, &pa, &ga);
    bnb_tensor tb = buffer_tensor(&pb);
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &tb, NULL, NULL), BNB_OK);
    const ref64_config h = default_hparams(BNB_ALGO_ADAMW);
    const spec_config sc = family_spec_config(&h);
    spec_param sp;
    spec_param_init(&sp, &sc, n, BNB_STATE_MODE_8BIT_BLOCKWISE);
    for (int step = 0; step < 3; ++step) {
        fill_normal(&rng, &ga, 0.01);
        assert_int_equal(bnb_step(opt), BNB_OK);
    }
    assert_int_equal(param_info(opt, 0).step, 3);
    assert_int_equal(param_info(opt, 1).step, 0);
    assert_int_equal(param_info(opt, 1).state_mode, BNB_STATE_MODE_NONE);
    assert_true(buffer_equal_bits(&pb, &spec_b));
    /* Now b gets gradients: its first update is a t = 1 update, whatever a's counter says. */
    bnb_tensor tgb = buffer_tensor(&gb);
    assert_int_equal(bnb_optimizer_bind_param(opt, 1, &tb, &tgb), BNB_OK);
    for (int step = 0; step < 2; ++step) {
        fill_normal(&rng, &gb, 0.01);
        spec_step(&sc, &sp, &spec_b, &gb);
        assert_int_equal(bnb_step(opt), BNB_OK);
        assert_true(buffer_equal_bits(&pb, &spec_b));
    }
    assert_int_equal(param_info(opt, 0).step, 5);
    assert_int_equal(param_info(opt, 1).step, 2);
    spec_param_free(&sp);
    bnb_optimizer_destroy(opt);
    buffer_free(&pa);
    buffer_free(&ga);
    buffer_free(&pb);
    buffer_free(&gb);
    buffer_free(&spec_b);
}

static void behaviour_zero_element_params(void** state) {
    (void)state;
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 8, 1, 1e-3, -1, 0);
    bnb_tensor empty = {NULL, 0, BNB_DTYPE_BF16, BNB_DEVICE_CPU};
    bnb_tensor empty_grad = {NULL, 0, BNB_DTYPE_BF16, BNB_DEVICE_CPU};
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &empty, &empty_grad, NULL), BNB_OK);
    assert_int_equal(bnb_step(opt), BNB_OK);
    assert_int_equal(bnb_step(opt), BNB_OK);
    const bnb_param_info info = param_info(opt, 0);
    assert_int_equal(info.numel, 0);
    assert_int_equal(info.step, 2);
    assert_int_equal(info.state_bytes, 0);
    assert_int_equal(bnb_optimizer_copy_state(opt, 0, BNB_STATE1, NULL, 0), BNB_OK);
    bnb_optimizer_destroy(opt);
}

/* Two independent runs from the same inputs give bitwise-identical params and states. */
static void behaviour_reruns_are_bitwise_identical(void** state) {
    (void)state;
    const int64_t n = 70000;
    const int modes[][2] = {{32, 1}, {8, 1}, {8, 0}};
    for (int k = 0; k < 3; ++k) {
        test_buffer params[2], grads[2];
        bnb_optimizer* opts[2];
        for (int r = 0; r < 2; ++r) {
            test_rng rng;
            rng_seed(&rng, 31337);
            params[r] = buffer_alloc(n, BNB_DTYPE_BF16);
            grads[r] = buffer_alloc(n, BNB_DTYPE_BF16);
            fill_normal(&rng, &params[r], 0.1);
            opts[r] = make_optimizer(BNB_ALGO_ADAMW, modes[k][0], modes[k][1], 1e-3, -1, 4096);
            add_param(opts[r], &params[r], &grads[r]);
            for (int step = 0; step < 10; ++step) {
                fill_normal(&rng, &grads[r], 0.01);
                assert_int_equal(bnb_step(opts[r]), BNB_OK);
            }
        }
        assert_true(buffer_equal_bits(&params[0], &params[1]));
        for (int s = 1; s <= 2; ++s) {
            float* a = read_state(opts[0], 0, s, n);
            float* b = read_state(opts[1], 0, s, n);
            assert_memory_equal(a, b, sizeof(float) * (size_t)n);
            free(a);
            free(b);
        }
        for (int r = 0; r < 2; ++r) {
            bnb_optimizer_destroy(opts[r]);
            buffer_free(&params[r]);
            buffer_free(&grads[r]);
        }
    }
}

int main(int argc, char** argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a1_adam),
        cmocka_unit_test(a1_adamw),
        cmocka_unit_test(a1_detects_swapped_decay),
        cmocka_unit_test(a3_adam_f32),
        cmocka_unit_test(a3_adam_f16),
        cmocka_unit_test(a3_adam_bf16),
        cmocka_unit_test(a3_adamw_f32),
        cmocka_unit_test(a3_adamw_f16),
        cmocka_unit_test(a3_adamw_bf16),
        cmocka_unit_test(spec_tails),
        cmocka_unit_test(spec_large_tail),
        cmocka_unit_test(spec_nonfinite),
        cmocka_unit_test(behaviour_nonfinite_keeps_elements),
        cmocka_unit_test(behaviour_min_8bit_size_boundary),
        cmocka_unit_test(behaviour_state_memory_ratio),
        cmocka_unit_test(behaviour_params_without_grad_are_skipped),
        cmocka_unit_test(behaviour_zero_element_params),
        cmocka_unit_test(behaviour_reruns_are_bitwise_identical),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
