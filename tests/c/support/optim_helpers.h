/* Small wrappers the optimizer tests share: create an optimizer for a case, register buffers, read
 * states. Every call asserts success through CMocka. */
#ifndef BNB_TEST_OPTIM_HELPERS_H
#define BNB_TEST_OPTIM_HELPERS_H

#include <stdint.h>

#include "bnb8.h"
#include "test_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An optimizer with the algorithm's defaults, then these overrides (weight_decay < 0 keeps the default). */
bnb_optimizer* make_optimizer(bnb_algorithm algorithm, int optim_bits, int block_wise, double lr,
                              double weight_decay, int64_t min_8bit_size);
int64_t add_param(bnb_optimizer* opt, test_buffer* param, test_buffer* grad);
/* Dequantized state (1 or 2) of parameter `index` into a new malloc'ed array of numel floats. */
float* read_state(const bnb_optimizer* opt, int64_t index, int state, int64_t numel);
bnb_param_info param_info(const bnb_optimizer* opt, int64_t index);
void fill_normal(test_rng* rng, test_buffer* b, double scale);
/* The optimizer's checkpoint bytes (malloc'ed), a complete fingerprint of its state. */
unsigned char* serialize_state(const bnb_optimizer* opt, size_t* size);
/* Saves `opt`, loads the bytes into `fresh` (an optimizer built the same way) and asserts that `fresh`
 * then serializes to the same bytes. */
void assert_checkpoint_round_trip(const bnb_optimizer* opt, bnb_optimizer* fresh);

#ifdef __cplusplus
}
#endif

#endif
