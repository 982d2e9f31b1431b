/* The CUDA backend against the CPU backend, bit for bit, through the public API (ALGORITHMS.md §1.5):
 * every algorithm (SGD with and without momentum and with Nesterov, LAMB and LARS with the trust-ratio
 * cap active, off and with ||p|| = 0, AdEMAMix with schedulers) x state mode (32-bit, 8-bit block-wise,
 * 8-bit tensor-wise) x parameter dtype (fp32, fp16, bf16), over six steps with a learning-rate schedule,
 * NaN/+-Inf gradients and exact zeros; tensors of 0, 1, 255, 257, 4097 and 70013 elements share one
 * optimizer, so one launch covers tails, empty tensors and several runs of the §7.1 tree. A second
 * pass adds percentile clipping (5) and skip_zeros. After every step: parameter bits, the checkpoint
 * bytes (every state code, value, absmax, step counter and clipping history), the per-parameter
 * gradient scale, trust ratio and update norm, and the step report.
 *
 * Without a GPU the program prints why and exits with 77 (ctest: Skipped). argv[1], when given, is a
 * CMocka test-name filter (ctest runs one case per process: "parity_*<case>"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/cuda_harness.h"

typedef struct parity_case {
    const char* name;
    bnb_algorithm algorithm;
    double lr;
    double momentum;
    int nesterov;
    double max_unorm;   /* LAMB, LARS; < 0: the default */
    double param_scale; /* 0: all-zero parameters (||p|| = 0) */
    int schedules;      /* AdEMAMix t_alpha, t_beta3 */
} parity_case;

static const parity_case kCases[] = {
    {"adam", BNB_ALGO_ADAM, 1e-3, 0, 0, -1, 1, 0},
    {"adamw", BNB_ALGO_ADAMW, 1e-3, 0, 0, -1, 1, 0},
    {"sgd", BNB_ALGO_SGD, 1e-2, 0.0, 0, -1, 1, 0},
    {"sgd_momentum", BNB_ALGO_SGD, 1e-2, 0.9, 0, -1, 1, 0},
    {"sgd_nesterov", BNB_ALGO_SGD, 1e-2, 0.9, 1, -1, 1, 0},
    {"lion", BNB_ALGO_LION, 1e-4, 0, 0, -1, 1, 0},
    {"lamb_capped", BNB_ALGO_LAMB, 1e-3, 0, 0, 1e-3, 1, 0},
    {"lamb_uncapped", BNB_ALGO_LAMB, 1e-3, 0, 0, 0.0, 1, 0},
    {"lamb_zero_params", BNB_ALGO_LAMB, 1e-3, 0, 0, 1.0, 0, 0},
    {"lars", BNB_ALGO_LARS, 1e-2, 0.9, 0, 0.02, 1, 0},
    {"rmsprop", BNB_ALGO_RMSPROP, 1e-3, 0, 0, -1, 1, 0},
    {"adagrad", BNB_ALGO_ADAGRAD, 1e-2, 0, 0, -1, 1, 0},
    {"ademamix", BNB_ALGO_ADEMAMIX, 1e-3, 0, 0, -1, 1, 0},
    {"ademamix_schedules", BNB_ALGO_ADEMAMIX, 1e-3, 0, 0, -1, 1, 1},
};

static const int64_t kSizes[] = {0, 1, 255, 257, 4097, 70013};
static const bnb_dtype kDtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
static const int kModes[3][2] = {{32, 1}, {8, 1}, {8, 0}}; /* (optim_bits, block_wise) */

static bnb_optimizer_config case_config(const parity_case* c, int bits, int block_wise, int clipping) {
    bnb_optimizer_config cfg;
    assert_int_equal(bnb_optimizer_config_init(&cfg, c->algorithm), BNB_OK);
    cfg.lr = c->lr;
    cfg.optim_bits = bits;
    cfg.block_wise = block_wise;
    cfg.min_8bit_size = 0;
    if (c->algorithm == BNB_ALGO_SGD || c->algorithm == BNB_ALGO_LARS) cfg.momentum = c->momentum;
    cfg.nesterov = c->nesterov;
    if (c->max_unorm >= 0) cfg.max_unorm = c->max_unorm;
    if (c->algorithm != BNB_ALGO_LARS && c->algorithm != BNB_ALGO_SGD) cfg.weight_decay = 1e-2;
    if (c->schedules) {
        cfg.t_alpha = 4;
        cfg.t_beta3 = 4;
    }
    if (clipping) {
        cfg.percentile_clipping = 5;
        cfg.skip_zeros = 1;
    }
    return cfg;
}

static void run_case(const parity_case* c, int clipping) {
    const grad_pattern patterns[6] = {GRAD_PLAIN, GRAD_PLAIN, GRAD_NONFINITE, GRAD_ZEROS, GRAD_PLAIN, GRAD_NONFINITE};
    for (int m = 0; m < 3; ++m) {
        for (int d = 0; d < 3; ++d) {
            const bnb_optimizer_config cfg = case_config(c, kModes[m][0], kModes[m][1], clipping);
            twin t;
            twin_create(&t, &cfg, NULL, kSizes, 6, kDtypes[d], c->param_scale, 1234 + (uint64_t)m * 7 + (uint64_t)d);
            double lr = c->lr;
            for (int step = 0; step < 6; ++step) {
                if (step > 0) { /* a learning-rate schedule: scalars change every step */
                    lr *= step % 2 ? 0.5 : 1.5;
                    assert_int_equal(bnb_optimizer_set_hparam(t.cpu.opt, 0, BNB_HPARAM_LR, lr), BNB_OK);
                    assert_int_equal(bnb_optimizer_set_hparam(t.gpu.opt, 0, BNB_HPARAM_LR, lr), BNB_OK);
                }
                twin_gradients(&t, patterns[step], step);
                twin_step(&t);
                char label[160];
                snprintf(label, sizeof label, "%s%s, %d-bit %s, %s, after step %d", c->name,
                         clipping ? " (clipping, skip_zeros)" : "", kModes[m][0],
                         kModes[m][0] == 32 ? "" : (kModes[m][1] ? "block-wise" : "tensor-wise"),
                         dtype_label(kDtypes[d]), step + 1);
                twin_assert_equal(&t, label);
            }
            twin_destroy(&t);
        }
    }
}

/* parity_<case>: without clipping; parity_clipping_<case>: with percentile clipping and skip_zeros. */
#define PARITY_TEST(name, index)                                \
    static void parity_##name(void** state) {                   \
        (void)state;                                            \
        run_case(&kCases[index], 0);                            \
    }                                                           \
    static void parity_clipping_##name(void** state) {          \
        (void)state;                                            \
        run_case(&kCases[index], 1);                            \
    }

PARITY_TEST(adam, 0)
PARITY_TEST(adamw, 1)
PARITY_TEST(sgd, 2)
PARITY_TEST(sgd_momentum, 3)
PARITY_TEST(sgd_nesterov, 4)
PARITY_TEST(lion, 5)
PARITY_TEST(lamb_capped, 6)
PARITY_TEST(lamb_uncapped, 7)
PARITY_TEST(lamb_zero_params, 8)
PARITY_TEST(lars, 9)
PARITY_TEST(rmsprop, 10)
PARITY_TEST(adagrad, 11)
PARITY_TEST(ademamix, 12)
PARITY_TEST(ademamix_schedules, 13)

#define PARITY_ENTRIES(name) cmocka_unit_test(parity_##name), cmocka_unit_test(parity_clipping_##name)

int main(int argc, char** argv) {
    harness_require_gpu("test_cuda_parity");
    const struct CMUnitTest tests[] = {
        PARITY_ENTRIES(adam),
        PARITY_ENTRIES(adamw),
        PARITY_ENTRIES(sgd),
        PARITY_ENTRIES(sgd_momentum),
        PARITY_ENTRIES(sgd_nesterov),
        PARITY_ENTRIES(lion),
        PARITY_ENTRIES(lamb_capped),
        PARITY_ENTRIES(lamb_uncapped),
        PARITY_ENTRIES(lamb_zero_params),
        PARITY_ENTRIES(lars),
        PARITY_ENTRIES(rmsprop),
        PARITY_ENTRIES(adagrad),
        PARITY_ENTRIES(ademamix),
        PARITY_ENTRIES(ademamix_schedules),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
