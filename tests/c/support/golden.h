/* The golden checkpoints of format v1 (tests/data/golden_v1/): how each was produced, shared by the
 * generator that wrote them once (tests/data/make_golden_v1.c) and the test that loads them forever
 * after (tests/c/test_golden.c).
 *
 * Each golden is one optimizer of the family with three parameters: p0 (5000 bf16 elements, group 0,
 * lr overridden, 8-bit states), p1 (1000 fp32 elements, group 1 with its own lr: fp32 states by size)
 * and p2 (600 fp16 elements, never given a gradient: no states), percentile clipping 50, weight decay
 * 1e-2, after kGoldenSteps steps from seeded inputs. */
#ifndef BNB_TEST_GOLDEN_H
#define BNB_TEST_GOLDEN_H

#include "bnb8.h"
#include "family.h"
#include "spec_driver.h"
#include "test_util.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { kGoldenParams = 3, kGoldenSteps = 3 };

typedef struct golden_case {
    const char* file;  /* under tests/data/golden_v1/ */
    int family;        /* index into family_cases() */
    int block_wise;
} golden_case;

const golden_case* golden_cases(int* count);

/* The run of a golden: its optimizer, parameter and gradient buffers, and the spec driver's replay. */
typedef struct golden_run {
    bnb_optimizer* opt;
    test_buffer params[kGoldenParams], grads[kGoldenParams], spec_params[kGoldenParams];
    spec_config spec[kGoldenParams];
    spec_param spec_states[kGoldenParams];
    test_rng rng;
} golden_run;

/* Builds the optimizer (registered parameters, group, overrides) and the spec driver's side, with the
 * initial parameters of the golden. */
void golden_setup(const golden_case* gc, golden_run* run);
/* One step of both the library and the spec driver, with the next seeded gradients. */
void golden_step(golden_run* run);
/* kGoldenSteps steps of the spec driver alone, then its parameters copied into the library's buffers:
 * what a fresh optimizer needs beside the golden checkpoint to continue the run. */
void golden_replay_spec(golden_run* run);
void golden_teardown(golden_run* run);

#ifdef __cplusplus
}
#endif

#endif
