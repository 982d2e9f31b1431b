/* Independent float64 reference of every bnb8 update rule, written the way PyTorch (torch.optim.Adam,
 * AdamW, SGD, RMSprop, Adagrad), lion-pytorch and bitsandbytes' reference LAMB/LARS/AdEMAMix write them,
 * in double precision. It follows the mathematics of ALGORITHMS.md §5-§7, not its fp32 operation order,
 * and shares no code with the library: the tests compare the library to it with tolerances. */
#ifndef BNB_TEST_REFERENCE64_H
#define BNB_TEST_REFERENCE64_H

#include <stdint.h>

#include "bnb8.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ref64_config {
    int32_t algorithm;   /* a bnb_algorithm value */
    double lr, beta1, beta2, beta3, eps, weight_decay;
    double alpha;        /* RMSprop smoothing constant; AdEMAMix mixing weight */
    double momentum, dampening; /* SGD, LARS */
    double t_alpha, t_beta3;    /* AdEMAMix schedulers, 0 = off */
    double max_unorm;    /* LAMB, LARS trust-ratio cap, 0 = off */
    int nesterov;        /* SGD */
} ref64_config;

typedef struct ref64_param {
    int64_t n;           /* elements */
    int64_t t;           /* steps applied so far (the parameter's own counter) */
    int num_slots;       /* state arrays in use (see below) */
    double* slot[3];     /* each n doubles, zero-initialised */
    double last_trust_ratio;    /* LAMB/LARS: scale of the last step (1 when no cap) */
    double last_update_sq_norm; /* LAMB/LARS: sum of u_i^2 over applied elements */
} ref64_param;

/* Slots: Adam, AdamW, LAMB: m, v. SGD (momentum > 0), LARS: momentum buffer. SGD with momentum 0: none.
   RMSprop: square average v. Adagrad: sum of squares v. Lion: m. AdEMAMix: m1, m2, nu. */
int ref64_num_slots(const ref64_config* c);
void ref64_param_init(ref64_param* p, const ref64_config* c, int64_t n);
void ref64_param_free(ref64_param* p);

/* One step: t += 1, then every element i with a finite g[i] (and, when skip_zeros, g[i] != 0) is
   updated with the gradient gs * g[i]; other elements keep their parameter and slot values. gs is the
   gradient scale from percentile clipping, computed by the caller (1.0 when off). */
void ref64_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs, int skip_zeros);

#ifdef __cplusplus
}
#endif

#endif
