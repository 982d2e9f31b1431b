/* The C side of bench_cpu.py, loaded with ctypes so the optimizer config is built against the real
 * header (no ctypes copy of its layout to fall out of date):
 *   - bench_optimizer(): a bnb8 optimizer over one caller-owned parameter and gradient;
 *   - bench_probe(): the access-pattern probe, the ceiling of an 8-bit step on this machine: it reads
 *     the parameter, the gradient and two uint8 state arrays and writes the parameter and both arrays
 *     back (16 bytes per fp32 parameter, 10 per bf16 one), with no arithmetic beyond an add per element,
 *     over the same threads as the library. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "bnb8.h"

/* NULL on failure; bnb_last_error_message() says why. */
bnb_optimizer* bench_optimizer(int32_t algorithm, int32_t optim_bits, int32_t threads, double lr, double momentum,
                               void* param, void* grad, int64_t numel, int32_t dtype) {
    bnb_optimizer_config cfg;
    if (bnb_optimizer_config_init(&cfg, algorithm) != BNB_OK) return NULL;
    cfg.optim_bits = optim_bits;
    cfg.num_threads = threads;
    cfg.min_8bit_size = 0;
    if (lr > 0) cfg.lr = lr;
    if (momentum > 0) cfg.momentum = momentum;
    bnb_optimizer* opt = NULL;
    if (bnb_optimizer_create(&cfg, &opt) != BNB_OK) return NULL;
    const bnb_tensor p = {param, numel, dtype, BNB_DEVICE_CPU};
    const bnb_tensor g = {grad, numel, dtype, BNB_DEVICE_CPU};
    if (bnb_optimizer_add_param(opt, 0, &p, &g, NULL) != BNB_OK) {
        bnb_optimizer_destroy(opt);
        return NULL;
    }
    return opt;
}

typedef struct probe_job {
    void* param;
    const void* grad;
    uint8_t* state1;
    uint8_t* state2;
    int64_t begin, end;
    int32_t dtype;
} probe_job;

/* One chunk at a time (the parameter, then the states), so every byte is read and written once while
 * the chunk is in cache; restrict and -O3 (bench/CMakeLists.txt) let the compiler vectorize the loops. */
static void probe_chunk(void* restrict param, const void* restrict grad, uint8_t* restrict s1, uint8_t* restrict s2,
                        int64_t begin, int64_t end, int32_t dtype) {
    if (dtype == BNB_DTYPE_F32) {
        float* restrict p = (float*)param;
        const float* restrict g = (const float*)grad;
        for (int64_t i = begin; i < end; ++i) p[i] = p[i] + g[i];
    } else {
        uint16_t* restrict p = (uint16_t*)param;
        const uint16_t* restrict g = (const uint16_t*)grad;
        for (int64_t i = begin; i < end; ++i) p[i] = (uint16_t)(p[i] + g[i]);
    }
    for (int64_t i = begin; i < end; ++i) {
        s1[i] = (uint8_t)(s1[i] + 1u);
        s2[i] = (uint8_t)(s2[i] + 1u);
    }
}

static void* probe_range(void* arg) {
    const probe_job* j = (const probe_job*)arg;
    enum { kChunk = 4096 };
    for (int64_t begin = j->begin; begin < j->end; begin += kChunk) {
        const int64_t end = begin + kChunk < j->end ? begin + kChunk : j->end;
        probe_chunk(j->param, j->grad, j->state1, j->state2, begin, end, j->dtype);
    }
    return NULL;
}

/* Seconds one pass took, or -1 if a thread could not start. */
double bench_probe(void* param, const void* grad, uint8_t* state1, uint8_t* state2, int64_t numel, int32_t dtype,
                   int32_t threads) {
    enum { kMaxThreads = 256 };
    if (threads < 1) threads = 1;
    if (threads > kMaxThreads) threads = kMaxThreads;
    probe_job jobs[kMaxThreads];
    pthread_t ids[kMaxThreads];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < threads; ++t) {
        /* 64-element aligned ranges, as the library splits on 256-element blocks */
        jobs[t] = (probe_job){param, grad, state1, state2, numel * t / threads / 64 * 64,
                              t + 1 == threads ? numel : numel * (t + 1) / threads / 64 * 64, dtype};
        if (t > 0 && pthread_create(&ids[t], NULL, probe_range, &jobs[t]) != 0) return -1.0;
    }
    probe_range(&jobs[0]);
    for (int t = 1; t < threads; ++t) pthread_join(ids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}
