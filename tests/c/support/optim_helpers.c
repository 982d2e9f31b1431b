#include "optim_helpers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void expect_ok(bnb_status status) {
    if (status != BNB_OK) fail_msg("bnb call failed: %d %s", (int)status, bnb_last_error_message());
}

bnb_optimizer* make_optimizer(bnb_algorithm algorithm, int optim_bits, int block_wise, double lr,
                              double weight_decay, int64_t min_8bit_size) {
    bnb_optimizer_config cfg;
    expect_ok(bnb_optimizer_config_init(&cfg, algorithm));
    cfg.optim_bits = optim_bits;
    cfg.block_wise = block_wise;
    cfg.lr = lr;
    if (weight_decay >= 0) cfg.weight_decay = weight_decay;
    cfg.min_8bit_size = min_8bit_size;
    bnb_optimizer* opt = NULL;
    expect_ok(bnb_optimizer_create(&cfg, &opt));
    return opt;
}

int64_t add_param(bnb_optimizer* opt, test_buffer* param, test_buffer* grad) {
    bnb_tensor p = buffer_tensor(param);
    bnb_tensor g;
    if (grad != NULL) g = buffer_tensor(grad);
    int64_t index = -1;
    expect_ok(bnb_optimizer_add_param(opt, 0, &p, grad != NULL ? &g : NULL, &index));
    return index;
}

float* read_state(const bnb_optimizer* opt, int64_t index, int state, int64_t numel) {
    float* values = malloc(sizeof(float) * (size_t)(numel > 0 ? numel : 1));
    expect_ok(bnb_optimizer_copy_state(opt, index, (bnb_state_id)state, values, numel));
    return values;
}

bnb_param_info param_info(const bnb_optimizer* opt, int64_t index) {
    bnb_param_info info;
    info.struct_size = sizeof info;
    expect_ok(bnb_optimizer_param_info(opt, index, &info));
    return info;
}

void fill_normal(test_rng* rng, test_buffer* b, double scale) {
    for (int64_t i = 0; i < b->numel; ++i) buffer_set(b, i, rng_normal(rng) * scale);
}

unsigned char* serialize_state(const bnb_optimizer* opt, size_t* size) {
    expect_ok(bnb_state_serialized_size(opt, size));
    unsigned char* bytes = malloc(*size);
    size_t written = 0;
    expect_ok(bnb_state_save_to_buffer(opt, bytes, *size, &written));
    assert_int_equal(written, *size);
    return bytes;
}

void assert_checkpoint_round_trip(const bnb_optimizer* opt, bnb_optimizer* fresh) {
    size_t size = 0, again_size = 0;
    unsigned char* bytes = serialize_state(opt, &size);
    expect_ok(bnb_state_load_from_buffer(fresh, bytes, size));
    unsigned char* again = serialize_state(fresh, &again_size);
    assert_int_equal(size, again_size);
    assert_memory_equal(bytes, again, size);
    free(bytes);
    free(again);
}
