/* Config versioning (struct_size-tolerant copy, NCCL/libgit2 style) and defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"

static bnb_optimizer_config effective(const bnb_optimizer* opt) {
    bnb_optimizer_config out;
    memset(&out, 0, sizeof out);
    out.struct_size = sizeof out;
    assert_int_equal(bnb_optimizer_get_config(opt, &out), BNB_OK);
    return out;
}

static void assert_defaults(const bnb_optimizer_config* c, bnb_algorithm algorithm) {
    assert_int_equal(c->struct_size, sizeof(bnb_optimizer_config));
    assert_int_equal(c->algorithm, algorithm);
    assert_int_equal(c->optim_bits, 32);
    assert_true(c->lr == 1e-3);
    assert_true(c->beta1 == 0.9);
    assert_true(c->beta2 == 0.999);
    assert_true(c->eps == 1e-8);
    assert_true(c->weight_decay == (algorithm == BNB_ALGO_ADAMW ? 1e-2 : 0.0));
    assert_int_equal(c->block_wise, 1);
    assert_int_equal(c->amsgrad, 0);
    assert_int_equal(c->min_8bit_size, 4096);
}

static void init_fills_defaults(void** state) {
    (void)state;
    bnb_optimizer_config c;
    memset(&c, 0xAB, sizeof c);
    assert_int_equal(bnb_optimizer_config_init(&c, BNB_ALGO_ADAM), BNB_OK);
    assert_defaults(&c, BNB_ALGO_ADAM);
    assert_int_equal(bnb_optimizer_config_init(&c, BNB_ALGO_ADAMW), BNB_OK);
    assert_defaults(&c, BNB_ALGO_ADAMW);
}

static void static_initializer_resolves_to_defaults(void** state) {
    (void)state;
    bnb_optimizer_config c = BNB_OPTIMIZER_CONFIG_INIT;
    c.algorithm = BNB_ALGO_ADAMW;
    bnb_optimizer* opt = NULL;
    assert_int_equal(bnb_optimizer_create(&c, &opt), BNB_OK);
    bnb_optimizer_config out = effective(opt);
    assert_defaults(&out, BNB_ALGO_ADAMW);
    bnb_optimizer_destroy(opt);
}

/* A caller compiled against an older, smaller struct: bytes past its struct_size are garbage here and
 * must be ignored in favour of defaults. */
static void older_smaller_struct_gets_defaults(void** state) {
    (void)state;
    unsigned char buffer[sizeof(bnb_optimizer_config) + 64];
    bnb_optimizer_config* c = (bnb_optimizer_config*)(void*)buffer;

    memset(buffer, 0xFF, sizeof buffer);
    c->struct_size = BNB_OPTIMIZER_CONFIG_MIN_SIZE; /* only struct_size and algorithm */
    c->algorithm = BNB_ALGO_ADAM;
    bnb_optimizer* opt = NULL;
    assert_int_equal(bnb_optimizer_create(c, &opt), BNB_OK);
    bnb_optimizer_config out = effective(opt);
    assert_defaults(&out, BNB_ALGO_ADAM);
    bnb_optimizer_destroy(opt);

    /* A prefix through weight_decay: its values are used, later fields take defaults. */
    memset(buffer, 0xFF, sizeof buffer);
    c->struct_size = offsetof(bnb_optimizer_config, block_wise);
    c->algorithm = BNB_ALGO_ADAMW;
    c->optim_bits = 8;
    c->lr = 0.05;
    c->beta1 = 0.5;
    c->beta2 = 0.75;
    c->eps = 1e-6;
    c->weight_decay = 0.25;
    assert_int_equal(bnb_optimizer_create(c, &opt), BNB_OK);
    out = effective(opt);
    assert_int_equal(out.optim_bits, 8);
    assert_true(out.lr == 0.05 && out.beta1 == 0.5 && out.beta2 == 0.75 && out.eps == 1e-6);
    assert_true(out.weight_decay == 0.25);
    assert_int_equal(out.block_wise, 1);
    assert_int_equal(out.amsgrad, 0);
    assert_int_equal(out.min_8bit_size, 4096);
    bnb_optimizer_destroy(opt);
}

/* A newer caller's larger struct: the extra bytes are ignored. */
static void oversized_struct_is_tolerated(void** state) {
    (void)state;
    unsigned char buffer[sizeof(bnb_optimizer_config) + 64];
    memset(buffer, 0x5A, sizeof buffer);
    bnb_optimizer_config* c = (bnb_optimizer_config*)(void*)buffer;
    assert_int_equal(bnb_optimizer_config_init(c, BNB_ALGO_ADAM), BNB_OK);
    c->struct_size = sizeof buffer;
    bnb_optimizer* opt = NULL;
    assert_int_equal(bnb_optimizer_create(c, &opt), BNB_OK);
    bnb_optimizer_config out = effective(opt);
    assert_defaults(&out, BNB_ALGO_ADAM);
    bnb_optimizer_destroy(opt);
}

/* config_init writes only the caller's struct: an older, smaller struct (here one ending before beta1)
 * gets its fields and nothing past them; a newer, larger one gets zeros past the library's fields. */
static void config_init_writes_only_the_callers_struct(void** state) {
    (void)state;
    unsigned char buffer[sizeof(bnb_optimizer_config) + 64];
    memset(buffer, 0xCC, sizeof buffer);
    bnb_optimizer_config* c = (bnb_optimizer_config*)(void*)buffer;
    const size_t small = offsetof(bnb_optimizer_config, beta1);
    assert_int_equal(bnb_optimizer_config_init_sized(c, small, BNB_ALGO_ADAMW), BNB_OK);
    assert_int_equal(c->struct_size, small);
    assert_int_equal(c->algorithm, BNB_ALGO_ADAMW);
    assert_true(c->lr == 1e-3);
    for (size_t i = small; i < sizeof buffer; ++i) assert_int_equal(buffer[i], 0xCC);
    bnb_optimizer* opt = NULL;
    assert_int_equal(bnb_optimizer_create(c, &opt), BNB_OK); /* the rest takes the defaults */
    bnb_optimizer_config out = effective(opt);
    assert_defaults(&out, BNB_ALGO_ADAMW);
    bnb_optimizer_destroy(opt);

    assert_int_equal(bnb_optimizer_config_init_sized(c, sizeof buffer, BNB_ALGO_ADAM), BNB_OK);
    assert_int_equal(c->struct_size, sizeof buffer);
    for (size_t i = sizeof(bnb_optimizer_config); i < sizeof buffer; ++i) assert_int_equal(buffer[i], 0);
    assert_int_equal(bnb_optimizer_config_init_sized(c, BNB_OPTIMIZER_CONFIG_MIN_SIZE - 1, BNB_ALGO_ADAM),
                     BNB_ERR_VERSION);
}

static void too_small_struct_is_rejected(void** state) {
    (void)state;
    bnb_optimizer_config c;
    assert_int_equal(bnb_optimizer_config_init(&c, BNB_ALGO_ADAM), BNB_OK);
    bnb_optimizer* opt = (bnb_optimizer*)0x1;
    c.struct_size = 0;
    assert_int_equal(bnb_optimizer_create(&c, &opt), BNB_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(bnb_last_error_message(), "struct_size is 0"));
    c.struct_size = BNB_OPTIMIZER_CONFIG_MIN_SIZE - 1;
    assert_int_equal(bnb_optimizer_create(&c, &opt), BNB_ERR_VERSION);
    assert_non_null(strstr(bnb_last_error_message(), "struct_size"));
    assert_ptr_equal(opt, (bnb_optimizer*)0x1); /* the output is untouched on failure */
}

/* get_config writes only the caller's struct_size bytes. */
static void get_config_respects_caller_size(void** state) {
    (void)state;
    bnb_optimizer_config c;
    assert_int_equal(bnb_optimizer_config_init(&c, BNB_ALGO_ADAMW), BNB_OK);
    c.lr = 0.125;
    bnb_optimizer* opt = NULL;
    assert_int_equal(bnb_optimizer_create(&c, &opt), BNB_OK);
    unsigned char buffer[sizeof(bnb_optimizer_config)];
    memset(buffer, 0xCC, sizeof buffer);
    bnb_optimizer_config* small = (bnb_optimizer_config*)(void*)buffer;
    small->struct_size = offsetof(bnb_optimizer_config, beta1);
    assert_int_equal(bnb_optimizer_get_config(opt, small), BNB_OK);
    assert_int_equal(small->struct_size, offsetof(bnb_optimizer_config, beta1));
    assert_int_equal(small->algorithm, BNB_ALGO_ADAMW);
    assert_true(small->lr == 0.125);
    for (size_t i = offsetof(bnb_optimizer_config, beta1); i < sizeof buffer; ++i) assert_int_equal(buffer[i], 0xCC);
    small->struct_size = 4;
    assert_int_equal(bnb_optimizer_get_config(opt, small), BNB_ERR_VERSION);
    bnb_optimizer_destroy(opt);
}

/* Every "default" sentinel resolves to the algorithm's default. */
static void sentinels_mean_default(void** state) {
    (void)state;
    bnb_optimizer_config c;
    assert_int_equal(bnb_optimizer_config_init(&c, BNB_ALGO_ADAMW), BNB_OK);
    c.optim_bits = BNB_DEFAULT_I32;
    c.lr = BNB_DEFAULT_F64;
    c.beta1 = BNB_DEFAULT_F64;
    c.beta2 = BNB_DEFAULT_F64;
    c.eps = BNB_DEFAULT_F64;
    c.weight_decay = BNB_DEFAULT_F64;
    c.block_wise = BNB_DEFAULT_I32;
    c.amsgrad = BNB_DEFAULT_I32;
    c.min_8bit_size = BNB_DEFAULT_I64;
    bnb_optimizer* opt = NULL;
    assert_int_equal(bnb_optimizer_create(&c, &opt), BNB_OK);
    bnb_optimizer_config out = effective(opt);
    assert_defaults(&out, BNB_ALGO_ADAMW);
    bnb_optimizer_destroy(opt);
}

/* The config is copied at creation: changing the caller's struct afterwards changes nothing. */
static void config_is_copied(void** state) {
    (void)state;
    bnb_optimizer_config c;
    assert_int_equal(bnb_optimizer_config_init(&c, BNB_ALGO_ADAM), BNB_OK);
    bnb_optimizer* opt = NULL;
    assert_int_equal(bnb_optimizer_create(&c, &opt), BNB_OK);
    c.lr = 5.0;
    double lr = 0;
    assert_int_equal(bnb_optimizer_get_hparam(opt, 0, BNB_HPARAM_LR, &lr), BNB_OK);
    assert_true(lr == 1e-3);
    bnb_optimizer_destroy(opt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_fills_defaults),
        cmocka_unit_test(static_initializer_resolves_to_defaults),
        cmocka_unit_test(older_smaller_struct_gets_defaults),
        cmocka_unit_test(config_init_writes_only_the_callers_struct),
        cmocka_unit_test(oversized_struct_is_tolerated),
        cmocka_unit_test(too_small_struct_is_rejected),
        cmocka_unit_test(get_config_respects_caller_size),
        cmocka_unit_test(sentinels_mean_default),
        cmocka_unit_test(config_is_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
