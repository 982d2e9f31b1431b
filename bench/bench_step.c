/* CPU step benchmark: time bnb_step() on one large fp32 (or fp16/bf16) parameter for each algorithm and
 * state mode, and print a table of step time, throughput and optimizer-state bytes per parameter.
 *
 *   bench_step [--numel N] [--steps S] [--dtype f32|f16|bf16] [--threads T]
 *
 * --threads sets bnb_optimizer_config.num_threads (default 0: BNB8_NUM_THREADS or every CPU);
 * BNB8_CPU_ISA=scalar|avx2|avx512 caps the instruction set. bench_cpu.py compares with PyTorch.
 *
 * Each configuration gets its own optimizer and one untimed warm-up step (which creates the states);
 * the timed steps are then reported as the median and the best. Gradients are fixed random values, so
 * every timed step does the same work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bnb8.h"
#include "bench_common.h"

static int compare_doubles(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

/* Deterministic values of about the right scale (params ~0.1, grads ~0.01), written in the dtype. */
static void fill(void* data, int64_t n, bnb_dtype dtype, float scale, uint64_t seed) {
    uint64_t x = seed;
    for (int64_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const float v = scale * ((float)(x >> 40) / (float)(1 << 24) - 0.5f);
        if (dtype == BNB_DTYPE_F32) {
            ((float*)data)[i] = v;
        } else {
            uint32_t bits;
            memcpy(&bits, &v, sizeof bits);
            /* Truncation is fine for benchmark inputs; fp16 takes the bf16 pattern's magnitude range. */
            ((uint16_t*)data)[i] = dtype == BNB_DTYPE_BF16 ? (uint16_t)(bits >> 16) : (uint16_t)(0x2000u | (bits >> 20 & 0x3FFu));
        }
    }
}

typedef struct config {
    const char* name;
    bnb_algorithm algorithm;
    int optim_bits;
    int block_wise;
    const char* states;
} config;

int main(int argc, char** argv) {
    int64_t numel = INT64_C(32) << 20;
    int steps = 10;
    int threads = 0;
    bnb_dtype dtype = BNB_DTYPE_F32;
    const char* dtype_label = "fp32";
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--numel") == 0 && i + 1 < argc) {
            numel = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            steps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--dtype") == 0 && i + 1 < argc) {
            dtype_label = argv[++i];
            dtype = strcmp(dtype_label, "f16") == 0 ? BNB_DTYPE_F16 : strcmp(dtype_label, "bf16") == 0 ? BNB_DTYPE_BF16 : BNB_DTYPE_F32;
        } else {
            fprintf(stderr, "usage: %s [--numel N] [--steps S] [--dtype f32|f16|bf16] [--threads T]\n", argv[0]);
            return 2;
        }
    }
    if (numel <= 0 || steps <= 0) {
        fprintf(stderr, "--numel and --steps must be positive\n");
        return 2;
    }
    const size_t element = dtype == BNB_DTYPE_F32 ? 4 : 2;
    void* param = malloc((size_t)numel * element);
    void* grad = malloc((size_t)numel * element);
    double* times = malloc(sizeof(double) * (size_t)steps);
    if (param == NULL || grad == NULL || times == NULL) {
        fprintf(stderr, "cannot allocate %lld parameters\n", (long long)numel);
        return 1;
    }
    fill(grad, numel, dtype, 0.02f, 0x9E3779B97F4A7C15ull);

    const config configs[] = {
        {"Adam", BNB_ALGO_ADAM, 32, 1, "32-bit"},
        {"Adam", BNB_ALGO_ADAM, 8, 1, "8-bit block-wise"},
        {"Adam", BNB_ALGO_ADAM, 8, 0, "8-bit tensor-wise"},
        {"AdamW", BNB_ALGO_ADAMW, 32, 1, "32-bit"},
        {"AdamW", BNB_ALGO_ADAMW, 8, 1, "8-bit block-wise"},
        {"AdamW", BNB_ALGO_ADAMW, 8, 0, "8-bit tensor-wise"},
    };
    printf("bnb8 %s CPU step: %lld %s parameters in one tensor, median and best of %d steps after a warm-up step, "
           "num_threads %d (0: automatic)\n\n",
           bnb_version_string(), (long long)numel, dtype_label, steps, threads);
    printf("| optimizer | states            | step ms (median) | step ms (best) | Mparam/s (median) | state bytes/param |\n");
    printf("|-----------|-------------------|-----------------:|---------------:|------------------:|------------------:|\n");
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; ++c) {
        fill(param, numel, dtype, 0.2f, 12345);
        bnb_optimizer_config cfg;
        check(bnb_optimizer_config_init(&cfg, configs[c].algorithm), "config");
        cfg.optim_bits = configs[c].optim_bits;
        cfg.block_wise = configs[c].block_wise;
        cfg.num_threads = threads;
        bnb_optimizer* opt = NULL;
        check(bnb_optimizer_create(&cfg, &opt), "create");
        bnb_tensor p = {param, numel, dtype, BNB_DEVICE_CPU};
        bnb_tensor g = {grad, numel, dtype, BNB_DEVICE_CPU};
        check(bnb_optimizer_add_param(opt, 0, &p, &g, NULL), "add_param");
        check(bnb_step(opt), "warm-up step");
        for (int s = 0; s < steps; ++s) {
            const double start = now_seconds();
            check(bnb_step(opt), "step");
            times[s] = now_seconds() - start;
        }
        qsort(times, (size_t)steps, sizeof(double), compare_doubles);
        const double median = times[steps / 2];
        int64_t state_bytes = 0;
        check(bnb_optimizer_state_bytes(opt, &state_bytes), "state_bytes");
        printf("| %-9s | %-17s | %16.1f | %14.1f | %17.0f | %17.3f |\n", configs[c].name, configs[c].states,
               median * 1e3, times[0] * 1e3, (double)numel / median * 1e-6, (double)state_bytes / (double)numel);
        fflush(stdout);
        bnb_optimizer_destroy(opt);
    }
    free(param);
    free(grad);
    free(times);
    return 0;
}
