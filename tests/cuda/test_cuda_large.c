/* One tensor of 2^31 + 257 elements (64-bit indexing: element offsets, block and partial indices past
 * INT32_MAX), AdamW with 8-bit block-wise states, fp32, two steps, checked to its last element.
 *
 * Block-wise AdamW updates each 256-element block from that block's inputs alone, so a CPU optimizer over
 * a copy of a few whole blocks, at the same step, is an exact reference for them: the first blocks, the
 * blocks across the 2^31 boundary, and the last three blocks (the very last one holds one element,
 * index 2^31 + 256). Parameter bits, state codes and block absmax values of those windows are compared
 * bit for bit; every element is also checked to have moved away from its initial value where its
 * gradient was non-zero (the whole tensor was updated, not only the windows).
 *
 * Needs about 22 GiB of free device memory; otherwise, or without a GPU, it prints why and exits with
 * 77 (ctest: Skipped). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cuda_runtime_api.h>

#include "bnb8.h"
#include "support/cuda_harness.h"

#define N ((int64_t)(1ll << 31) + 257)
#define CHUNK ((int64_t)1 << 26)

static void ok(bnb_status status) {
    if (status != BNB_OK) fail_msg("status %d: %s", (int)status, bnb_last_error_message());
}

/* Deterministic values of element i at `step` (0: the parameter), with no RNG state to share. */
static float value_at(int64_t i, int step) {
    uint64_t z = (uint64_t)i * 0x9E3779B97F4A7C15ull + (uint64_t)step * 0xD1B54A32D192ED03ull;
    z ^= z >> 31;
    z *= 0xBF58476D1CE4E5B9ull;
    z ^= z >> 29;
    const float unit = (float)(z >> 40) * (1.0f / 16777216.0f) - 0.5f; /* [-0.5, 0.5) */
    return step == 0 ? unit : unit * 1e-2f;
}

static void fill_device(float* device, int step) {
    float* host = malloc((size_t)CHUNK * sizeof(float));
    assert_non_null(host);
    for (int64_t first = 0; first < N; first += CHUNK) {
        const int64_t count = N - first < CHUNK ? N - first : CHUNK;
        for (int64_t i = 0; i < count; ++i) host[i] = value_at(first + i, step);
        to_device(device + first, host, (size_t)count * sizeof(float));
    }
    free(host);
}

typedef struct window {
    int64_t first; /* a block boundary */
    int64_t count;
} window;

static bnb_optimizer_config config(void) {
    bnb_optimizer_config cfg;
    ok(bnb_optimizer_config_init(&cfg, BNB_ALGO_ADAMW));
    cfg.optim_bits = 8;
    cfg.min_8bit_size = 0;
    return cfg;
}

/* The CPU reference for one window after `steps` steps, compared with the device's values. */
static void check_window(const window* w, int steps, const float* d_param, const bnb_state_view views[2]) {
    const bnb_optimizer_config cfg = config();
    bnb_optimizer* cpu = NULL;
    ok(bnb_optimizer_create(&cfg, &cpu));
    float* p = malloc((size_t)w->count * sizeof(float));
    float* g = malloc((size_t)w->count * sizeof(float));
    for (int64_t i = 0; i < w->count; ++i) p[i] = value_at(w->first + i, 0);
    bnb_tensor tp = {p, w->count, BNB_DTYPE_F32, BNB_DEVICE_CPU}, tg = {g, w->count, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    ok(bnb_optimizer_add_param(cpu, 0, &tp, &tg, NULL));
    for (int step = 1; step <= steps; ++step) {
        for (int64_t i = 0; i < w->count; ++i) g[i] = value_at(w->first + i, step);
        ok(bnb_step(cpu));
    }
    float* got = malloc((size_t)w->count * sizeof(float));
    to_host(got, d_param + w->first, (size_t)w->count * sizeof(float));
    for (int64_t i = 0; i < w->count; ++i) {
        if (memcmp(&got[i], &p[i], sizeof(float)) != 0) {
            fail_msg("parameter element %lld: CUDA %a, CPU %a", (long long)(w->first + i), got[i], p[i]);
        }
    }
    const int64_t blocks = (w->count + 255) / 256;
    uint8_t* codes = malloc((size_t)w->count);
    float absmax[8];
    for (int s = 0; s < 2; ++s) {
        bnb_state_view ref;
        ref.struct_size = sizeof ref;
        ok(bnb_optimizer_state_view(cpu, 0, s + 1, &ref));
        to_host(codes, (const uint8_t*)views[s].data + w->first, (size_t)w->count);
        assert_true(blocks <= 8);
        to_host(absmax, views[s].absmax + w->first / 256, (size_t)blocks * sizeof(float));
        assert_memory_equal(codes, ref.data, (size_t)w->count);
        assert_memory_equal(absmax, ref.absmax, (size_t)blocks * sizeof(float));
    }
    printf("  window [%lld, %lld): parameters, codes and absmax equal the CPU's\n", (long long)w->first,
           (long long)(w->first + w->count));
    free(codes);
    free(got);
    free(p);
    free(g);
    bnb_optimizer_destroy(cpu);
}

static void tensor_past_int32(void** state) {
    (void)state;
    const int steps = 2;
    float *d_param = device_alloc((size_t)N * sizeof(float)), *d_grad = device_alloc((size_t)N * sizeof(float));
    fill_device(d_param, 0);
    const bnb_optimizer_config cfg = config();
    bnb_optimizer* gpu = NULL;
    ok(bnb_optimizer_create(&cfg, &gpu));
    bnb_tensor tp = {d_param, N, BNB_DTYPE_F32, 0}, tg = {d_grad, N, BNB_DTYPE_F32, 0};
    ok(bnb_optimizer_add_param(gpu, 0, &tp, &tg, NULL));
    for (int step = 1; step <= steps; ++step) {
        fill_device(d_grad, step);
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        ok(bnb_step(gpu));
        ok(bnb_optimizer_synchronize(gpu));
        clock_gettime(CLOCK_MONOTONIC, &end);
        printf("  step %d of %lld elements: %.1f ms (wall clock; the first step allocates the states)\n", step,
               (long long)N, 1e3 * (double)(end.tv_sec - start.tv_sec) + 1e-6 * (double)(end.tv_nsec - start.tv_nsec));
    }
    bnb_state_view views[2];
    for (int s = 0; s < 2; ++s) {
        views[s].struct_size = sizeof views[s];
        ok(bnb_optimizer_state_view(gpu, 0, s + 1, &views[s]));
        assert_int_equal(views[s].memory, BNB_MEMORY_DEVICE);
        assert_int_equal(views[s].absmax_per_row, (N + 255) / 256);
    }
    /* The first blocks; blocks across byte offset 2^31 (element 2^29); the last two full blocks and the
     * one-element block past element 2^31. */
    const window windows[3] = {{0, 512}, {((int64_t)1 << 29) - 256, 512}, {((int64_t)1 << 31) - 256, 513}};
    for (int w = 0; w < 3; ++w) check_window(&windows[w], steps, d_param, views);

    /* Every element moved: chunk by chunk, against the initial values (gradients are never zero here). */
    float* host = malloc((size_t)CHUNK * sizeof(float));
    int64_t unchanged = 0;
    for (int64_t first = 0; first < N; first += CHUNK) {
        const int64_t count = N - first < CHUNK ? N - first : CHUNK;
        to_host(host, d_param + first, (size_t)count * sizeof(float));
        for (int64_t i = 0; i < count; ++i) unchanged += host[i] == value_at(first + i, 0);
    }
    free(host);
    printf("  %lld of %lld elements unchanged after %d steps\n", (long long)unchanged, (long long)N, steps);
    assert_true(unchanged < N / 1000000); /* only elements whose update rounds away entirely */
    bnb_param_info info;
    info.struct_size = sizeof info;
    ok(bnb_optimizer_param_info(gpu, 0, &info));
    assert_int_equal(info.step, steps);
    bnb_optimizer_destroy(gpu);
    device_free(d_param);
    device_free(d_grad);
}

int main(void) {
    harness_require_gpu("test_cuda_large");
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
        printf("test_cuda_large: SKIPPED: cudaMemGetInfo failed\n");
        return HARNESS_SKIP;
    }
    const size_t needed = (size_t)N * (4 + 4 + 1 + 1) + ((size_t)1 << 30); /* p, g, two code arrays, slack */
    if (free_bytes < needed) {
        printf("test_cuda_large: SKIPPED: %.1f GiB of device memory free, %.1f GiB needed\n",
               (double)free_bytes / (1 << 30), (double)needed / (1 << 30));
        return HARNESS_SKIP;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(tensor_past_int32)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
