/* What the GPU tests share: the skip when no GPU can run them (exit code 77, which ctest reports as
 * "Skipped", with the reason printed), device buffers, and twins: a CPU optimizer and a CUDA optimizer
 * built from one config over the same parameter values, stepped with the same gradients and compared
 * bit for bit (parameter bits, the whole checkpoint, the per-parameter and per-step reports). The CPU
 * backend is the reference: ALGORITHMS.md §1.5 makes the two bitwise identical. */
#ifndef BNB_CUDA_HARNESS_H
#define BNB_CUDA_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "bnb8.h"
#include "support/test_util.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HARNESS_SKIP 77

/* Returns when bnb8 has the CUDA backend and a CUDA device is usable; otherwise prints
 * "<test>: SKIPPED: <reason>" and exits with HARNESS_SKIP. */
void harness_require_gpu(const char* test);

void* device_alloc(size_t bytes);
void device_free(void* data);
void to_device(void* dst, const void* src, size_t bytes);
void to_host(void* dst, const void* src, size_t bytes);

#define SIDE_MAX 8

/* One optimizer over its own parameter and gradient buffers, in host memory or on CUDA device 0. */
typedef struct side {
    bnb_optimizer* opt;
    int on_gpu;
    int count;
    bnb_dtype dtype;
    int64_t numel[SIDE_MAX];
    void* param[SIDE_MAX];
    void* grad[SIDE_MAX];
} side;

/* An optimizer from `config` with parameters holding copies of `initial` (all of one dtype). */
void side_create(side* s, const bnb_optimizer_config* config, const test_buffer* initial, int count, int on_gpu);
/* Copies host gradients into the side's gradient buffers (synchronously). */
void side_set_gradients(side* s, const test_buffer* grads);
void side_step(side* s);
/* The current values of parameter k, into a new host buffer. */
test_buffer side_param(const side* s, int k);
/* Asserts bitwise equality of parameters, reports and checkpoints of two sides. */
void sides_assert_equal(const side* a, const side* b, const char* label);
void side_destroy(side* s);

typedef enum grad_pattern {
    GRAD_PLAIN,      /* normal random */
    GRAD_NONFINITE,  /* NaN, +Inf, -Inf at a block's first and last element, in the tail */
    GRAD_ZEROS       /* every third element exactly +0 or -0 */
} grad_pattern;

/* Random gradients of a pattern for parameters of `numel` elements. */
void fill_gradients(test_rng* rng, test_buffer* grads, int count, grad_pattern pattern, int step);

/* The usual pair: a CPU optimizer (the reference) and a CUDA optimizer, same parameters and gradients. */
typedef struct twin {
    side cpu;
    side gpu;
    int count;
    test_buffer grad[SIDE_MAX];
    test_rng rng;
} twin;

/* Both optimizers from `config` (the GPU one from `gpu_config` when not NULL: e.g. paged), parameters of
 * `sizes` elements of `dtype`, initialised randn * param_scale. */
void twin_create(twin* t, const bnb_optimizer_config* config, const bnb_optimizer_config* gpu_config,
                 const int64_t* sizes, int count, bnb_dtype dtype, double param_scale, uint64_t seed);
/* New gradients of `pattern` for both. */
void twin_gradients(twin* t, grad_pattern pattern, int step);
void twin_step(twin* t);
void twin_assert_equal(const twin* t, const char* label);
void twin_destroy(twin* t);

/* The optimizer's checkpoint bytes (malloc'ed). */
unsigned char* checkpoint_bytes(const bnb_optimizer* opt, size_t* size);

#ifdef __cplusplus
}
#endif

#endif
