/* Shared helpers for the C tests: deterministic random numbers, independent (double-based) rounding to
 * fp16/bf16, typed buffers and tolerance checks. Nothing here uses bnb8 internals. */
#ifndef BNB_TEST_UTIL_H
#define BNB_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "bnb8.h"

#ifdef __cplusplus
extern "C" {
#endif

/* xoshiro256** seeded through splitmix64. */
typedef struct test_rng {
    uint64_t s[4];
    double spare;     /* Box-Muller's second value */
    int has_spare;
} test_rng;

void rng_seed(test_rng* rng, uint64_t seed);
uint64_t rng_next(test_rng* rng);
double rng_uniform(test_rng* rng); /* [0, 1) with 53 random bits */
double rng_normal(test_rng* rng);  /* standard normal (Box-Muller) */

/* Round a double to the nearest value of the dtype (ties to even, overflow to +-Inf, NaN kept), computed
 * with double arithmetic only: an independent reference for the library's integer conversions. */
double round_to_dtype(double x, bnb_dtype dtype);
/* Bit pattern of round_to_dtype(x) for F16/BF16 (NaN as 0x7FFF). */
uint16_t dtype_bits16(double x, bnb_dtype dtype);
/* Exact value of a 16-bit pattern. */
double bits16_value(uint16_t bits, bnb_dtype dtype);
float bits_to_f32(uint32_t bits);
uint32_t f32_to_bits(float x);

/* A host buffer of `numel` elements of `dtype`, viewable as a bnb_tensor. */
typedef struct test_buffer {
    void* data;
    int64_t numel;
    bnb_dtype dtype;
} test_buffer;

test_buffer buffer_alloc(int64_t numel, bnb_dtype dtype);
void buffer_free(test_buffer* b);
bnb_tensor buffer_tensor(const test_buffer* b);
double buffer_get(const test_buffer* b, int64_t i);         /* exact value */
void buffer_set(test_buffer* b, int64_t i, double value);   /* rounded to the dtype */
int buffer_equal_bits(const test_buffer* a, const test_buffer* b);
void buffer_copy(test_buffer* dst, const test_buffer* src);

int dtype_bytes(bnb_dtype dtype);
const char* dtype_label(bnb_dtype dtype);

/* |a - b| <= atol + rtol * |b|; NaNs are equal to each other. */
int is_close(double a, double b, double atol, double rtol);

#ifdef __cplusplus
}
#endif

#endif
