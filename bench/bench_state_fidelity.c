/* How faithfully 8-bit states track 32-bit states, with the optimizer's own arithmetic isolated from
 * any training dynamics: two Adam optimizers (lr 0, so parameters never move) receive identical
 * stationary gradients g_i ~ N(0, s_i^2), with per-element scales s_i spread over two decades. After
 * T steps the 32-bit v_i estimates s_i^2; the table prints, for a few beta2 values, the mean of
 * v8/v32 and of sqrt(v8/v32) (the effective step size ratio is the inverse of the latter), and the
 * mean |m8 - m32| / sqrt(v32) (the first-moment error in units of the update's scale).
 *
 *   bench_state_fidelity [--steps T] [--numel N] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnb8.h"
#include "bench_common.h"

static uint64_t g_state = 0x853C49E6748FEA9Bull;

static double uniform(void) {
    g_state ^= g_state << 13;
    g_state ^= g_state >> 7;
    g_state ^= g_state << 17;
    return ((double)(g_state >> 11) + 0.5) * 0x1.0p-53;
}

static double normal(void) { return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform()); }

static bnb_optimizer* make_adam(int bits, double beta2, float* param, float* grad, int64_t n) {
    bnb_optimizer_config cfg;
    check(bnb_optimizer_config_init(&cfg, BNB_ALGO_ADAM), "config");
    cfg.lr = 0.0;
    cfg.beta2 = beta2;
    cfg.optim_bits = bits;
    bnb_optimizer* opt = NULL;
    check(bnb_optimizer_create(&cfg, &opt), "create");
    bnb_tensor p = {param, n, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor g = {grad, n, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    check(bnb_optimizer_add_param(opt, 0, &p, &g, NULL), "add_param");
    return opt;
}

int main(int argc, char** argv) {
    int64_t n = 65536;
    int steps = 6000;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--numel") == 0 && i + 1 < argc) n = strtoll(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--steps T] [--numel N]\n", argv[0]);
            return 2;
        }
    }
    if (n <= 0 || steps <= 0) return 2;
    const double betas2[] = {0.99, 0.999};
    float* param = calloc((size_t)n, sizeof(float));
    float* grad = malloc(sizeof(float) * (size_t)n);
    float* scale = malloc(sizeof(float) * (size_t)n);
    float* s8 = malloc(sizeof(float) * (size_t)n);
    float* s32 = malloc(sizeof(float) * (size_t)n);
    float* v32 = malloc(sizeof(float) * (size_t)n);
    printf("bnb8 %s: 8-bit block-wise vs 32-bit Adam states under identical stationary gradients\n", bnb_version_string());
    printf("%lld elements, gradient scales log-uniform over [0.01, 1], %d steps\n\n", (long long)n, steps);
    printf("| beta2 | mean v8/v32 | mean sqrt(v8/v32) | mean abs(m8-m32)/sqrt(v32) |\n");
    printf("|------:|------------:|------------------:|---------------------------:|\n");
    for (size_t b = 0; b < sizeof betas2 / sizeof betas2[0]; ++b) {
        for (int64_t i = 0; i < n; ++i) scale[i] = (float)pow(10.0, -2.0 * uniform());
        bnb_optimizer* o8 = make_adam(8, betas2[b], param, grad, n);
        bnb_optimizer* o32 = make_adam(32, betas2[b], param, grad, n);
        for (int t = 0; t < steps; ++t) {
            for (int64_t i = 0; i < n; ++i) grad[i] = (float)(normal() * scale[i]);
            check(bnb_step(o8), "step");
            check(bnb_step(o32), "step");
        }
        double ratio = 0, sqrt_ratio = 0, m_error = 0;
        int64_t used = 0;
        check(bnb_optimizer_copy_state(o32, 0, BNB_STATE2, v32, n), "copy_state");
        check(bnb_optimizer_copy_state(o8, 0, BNB_STATE2, s8, n), "copy_state");
        for (int64_t i = 0; i < n; ++i) {
            if (v32[i] > 0) {
                ratio += s8[i] / v32[i];
                sqrt_ratio += sqrt(s8[i] / v32[i]);
                ++used;
            }
        }
        check(bnb_optimizer_copy_state(o32, 0, BNB_STATE1, s32, n), "copy_state");
        check(bnb_optimizer_copy_state(o8, 0, BNB_STATE1, s8, n), "copy_state");
        for (int64_t i = 0; i < n; ++i) {
            if (v32[i] > 0) m_error += fabs(s8[i] - s32[i]) / sqrt(v32[i]);
        }
        printf("| %5g | %11.3f | %17.3f | %26.4f |\n", betas2[b], ratio / (double)used, sqrt_ratio / (double)used,
               m_error / (double)used);
        bnb_optimizer_destroy(o8);
        bnb_optimizer_destroy(o32);
    }
    free(param);
    free(grad);
    free(scale);
    free(s8);
    free(s32);
    free(v32);
    return 0;
}
