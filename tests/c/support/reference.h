/* Independent references for the optimizer tests.
 *
 * - ref_adam_step: the float64 algorithm of torch.optim.Adam / AdamW, written the way torch writes it
 *   (bias-corrected step size and denominator); used with tolerances (ALGORITHMS.md §13).
 * - spec_*: a single-threaded scalar driver written directly from ALGORITHMS.md (fp32 operations in the
 *   written order, linear-scan code selection, double-based 16-bit rounding); the library must match it
 *   bit for bit. It shares no code with the library. */
#ifndef BNB_TEST_REFERENCE_H
#define BNB_TEST_REFERENCE_H

#include <stdint.h>

#include "bnb8.h"
#include "test_util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ref_hparams {
    double lr, beta1, beta2, eps, weight_decay;
} ref_hparams;

/* One float64 Adam (decoupled = 0) or AdamW (decoupled = 1) step at step count t on n elements.
 * Elements whose gradient is not finite are left unchanged. */
void ref_adam_step(int decoupled, const ref_hparams* h, int64_t t, int64_t n, double* p, double* m, double* v,
                   const double* g);

/* Scalar spec driver state of one parameter. */
typedef struct spec_param {
    bnb_state_mode mode;
    int64_t n;
    int64_t t;
    float* values[2];   /* 32-bit: m, v */
    uint8_t* codes[2];  /* 8-bit: m (signed map), v (unsigned map) */
    float* absmax[2];   /* per block, or one per tensor */
} spec_param;

void spec_param_init(spec_param* s, int64_t n, bnb_state_mode mode);
void spec_param_free(spec_param* s);
/* fp32 value of state `state` (0 = m, 1 = v) at element i. */
float spec_state_value(const spec_param* s, int state, int64_t i);

/* One step of Adam/AdamW on `param` with gradient `grad`; returns the count of non-finite gradients. */
int64_t spec_adam_step(bnb_algorithm algorithm, const ref_hparams* h, spec_param* s, test_buffer* param,
                       const test_buffer* grad);

/* The spec's code selection (§4.3 rules 1-3, without the sign fix) against a 256-entry map. */
uint8_t spec_select(const float* map, float x);

#ifdef __cplusplus
}
#endif

#endif
