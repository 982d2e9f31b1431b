/* The optimizer family as the conformance tests see it: the spec's test configurations (ALGORITHMS.md
 * §13.1), a library optimizer built from a reference configuration, and access to its states by slot
 * (AdEMAMix's two rows of state1 are slots 0 and 1). */
#ifndef BNB_TEST_FAMILY_H
#define BNB_TEST_FAMILY_H

#include <stdint.h>

#include "bnb8.h"
#include "reference64.h"
#include "spec_driver.h"
#include "test_util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct family_case {
    const char* name;      /* "adam", "sgd", "ademamix_sched", ... */
    ref64_config config;   /* hyper-parameters; weight_decay is set per test */
} family_case;

/* Every algorithm with the hyper-parameters of the spec's tables, plus AdEMAMix with schedulers. */
const family_case* family_cases(int* count);

/* An optimizer with `config`'s algorithm, hyper-parameters, percentile clipping and skip_zeros,
 * optim_bits `bits`, block_wise, and min_8bit_size 0 so every tensor gets the requested mode. Asserts
 * success. */
bnb_optimizer* family_optimizer(const spec_config* config, int bits, int block_wise);
/* The same with skip_step_on_nonfinite set as given. */
bnb_optimizer* family_optimizer_skipping(const spec_config* config, int bits, int block_wise,
                                         int skip_step_on_nonfinite);

/* The state mode the library chooses for (bits, block_wise) with min_8bit_size 0. */
bnb_state_mode family_mode(int bits, int block_wise);

/* Slot values of parameter `index` (numel n), one malloc'ed array of n floats per slot, in the
 * reference's slot order. Returns the slot count. */
int family_read_slots(const bnb_optimizer* opt, int64_t index, int64_t n, float** slots);
void family_free_slots(float** slots, int count);

/* The spec driver's configuration for the same hyper-parameters (clipping off, skip_zeros off). */
spec_config family_spec_config(const ref64_config* config);

#ifdef __cplusplus
}
#endif

#endif
