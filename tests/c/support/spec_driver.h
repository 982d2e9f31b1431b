/* The spec driver: a single-threaded, scalar, deliberately simple implementation of every bnb8 algorithm
 * written directly from ALGORITHMS.md (§1 floating-point contract, §2-§4 maps, layout and requantization,
 * §5 pipeline and per-step scalars, §6 update rules, §7 reductions, trust ratio and percentile clipping).
 * The library must match it bit for bit: parameters, state bytes, absmax values and clipping history.
 *
 * It shares no code with the library (only bnb_qmap_copy() to obtain the two normative tables of
 * Appendix A) and makes no attempt to be fast: fp32 operations one at a time in the written order,
 * linear-scan code selection, double-based 16-bit rounding (test_util's buffer_set). */
#ifndef BNB_TEST_SPEC_DRIVER_H
#define BNB_TEST_SPEC_DRIVER_H

#include <stdint.h>

#include "bnb8.h"
#include "test_util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spec_config {
    int32_t algorithm;  /* bnb_algorithm */
    double lr, beta1, beta2, beta3, eps, weight_decay;
    double alpha;       /* RMSprop smoothing constant (b1 in §5.2 for RMSprop); AdEMAMix mixing weight */
    double momentum, dampening; /* SGD, LARS: momentum is b1 in §5.2, omd = 1 - dampening */
    double t_alpha, t_beta3;    /* AdEMAMix schedulers, 0 = off */
    double max_unorm;   /* LAMB, LARS, 0 = no trust ratio */
    int nesterov;       /* SGD */
    int percentile_clipping; /* 0..100, 100 = off */
    int skip_zeros;
} spec_config;

typedef struct spec_param {
    bnb_state_mode mode;   /* BNB_STATE_MODE_32BIT, _8BIT_BLOCKWISE or _8BIT_TENSORWISE, chosen by the caller */
    int64_t n, t;
    int num_states;        /* public states: 0, 1 or 2 (SGD with momentum 0 at creation: 0) */
    int rows[2];           /* rows per state (AdEMAMix state1 has 2 rows: m1, m2) */
    float* values[2];      /* 32-bit mode: rows*n floats per state, row-major */
    uint8_t* codes[2];     /* 8-bit modes: rows*n codes per state */
    float* absmax[2];      /* 8-bit: rows*ceil(n/256) (block-wise; row r's block b at [r*blocks + b]) or rows (tensor-wise) */
    float history[100];    /* percentile clipping history h (when percentile_clipping < 100) */
    double last_gs;        /* gradient scale of the last step */
    double last_trust_ratio, last_update_sq_norm; /* LAMB/LARS: scale and Su of the last step (1 and 0 otherwise) */
} spec_param;

/* Fresh states per §3: fp32 zeros, or every code at its map's zero code and absmax 0. */
void spec_param_init(spec_param* s, const spec_config* c, int64_t n, bnb_state_mode mode);
void spec_param_free(spec_param* s);
/* fp32 value (dequantized in 8-bit modes) of state `state` (0 = state1, 1 = state2) at flat index i < rows*n. */
float spec_state_value(const spec_param* s, int state, int64_t i);
/* One step of the parameter per §5.1 step 3 (t += 1; at t == 1 the clipping history is seeded;
   gs from §7.3; per-step scalars §5.2; pre-pass §5.4 when needed; prologue §5.3; rule §6;
   requantization §4). The hyper-parameters may differ between calls (schedules). Returns the number
   of non-finite gradient elements. param and grad have the same dtype (fp32, fp16 or bf16). */
int64_t spec_step(const spec_config* c, spec_param* s, test_buffer* param, const test_buffer* grad);
/* Non-finite elements of a gradient (for the caller's skip_step_on_nonfinite logic §5.1 step 2). */
int64_t spec_count_nonfinite(const test_buffer* grad);
/* §4.3 rules 1-3 by linear scan (no sign fix). */
uint8_t spec_select(const float* map, float x);

#ifdef __cplusplus
}
#endif

#endif
