/* Create, query and destroy optimizers; NULL destroy is a no-op; handles are independent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/optim_helpers.h"

static void create_and_destroy_every_algorithm(void** state) {
    (void)state;
    const bnb_algorithm algorithms[] = {BNB_ALGO_ADAM, BNB_ALGO_ADAMW};
    for (size_t i = 0; i < 2; ++i) {
        bnb_optimizer_config cfg;
        assert_int_equal(bnb_optimizer_config_init(&cfg, algorithms[i]), BNB_OK);
        bnb_optimizer* opt = NULL;
        assert_int_equal(bnb_optimizer_create(&cfg, &opt), BNB_OK);
        assert_non_null(opt);
        int64_t count = -1;
        assert_int_equal(bnb_optimizer_param_count(opt, &count), BNB_OK);
        assert_int_equal(count, 0);
        assert_int_equal(bnb_optimizer_group_count(opt, &count), BNB_OK);
        assert_int_equal(count, 1);
        int64_t bytes = -1;
        assert_int_equal(bnb_optimizer_state_bytes(opt, &bytes), BNB_OK);
        assert_int_equal(bytes, 0);
        bnb_optimizer_destroy(opt);
    }
}

static void destroy_null_is_a_noop(void** state) {
    (void)state;
    bnb_optimizer_destroy(NULL);
}

static void register_query_and_step(void** state) {
    (void)state;
    test_buffer p = buffer_alloc(10000, BNB_DTYPE_F16), g = buffer_alloc(10000, BNB_DTYPE_F16);
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 8, 1, 1e-3, -1, 4096);
    assert_int_equal(add_param(opt, &p, &g), 0);
    assert_int_equal(add_param(opt, &p, NULL), 1); /* same buffer twice is allowed; no grad */
    bnb_param_info info = param_info(opt, 0);
    assert_int_equal(info.numel, 10000);
    assert_int_equal(info.dtype, BNB_DTYPE_F16);
    assert_int_equal(info.device, BNB_DEVICE_CPU);
    assert_int_equal(info.group, 0);
    assert_int_equal(info.step, 0);
    assert_int_equal(info.state_mode, BNB_STATE_MODE_NONE);
    assert_int_equal(info.num_states, 2);
    assert_int_equal(bnb_step(opt), BNB_OK);
    info = param_info(opt, 0);
    assert_int_equal(info.step, 1);
    assert_int_equal(info.state_mode, BNB_STATE_MODE_8BIT_BLOCKWISE);
    assert_int_equal(info.state_bytes, 10000 * 2 + 40 * 4 * 2);
    assert_int_equal(param_info(opt, 1).step, 0);
    bnb_optimizer_destroy(opt);
    buffer_free(&p);
    buffer_free(&g);
}

/* Two handles never share state: stepping one leaves the other's parameters alone. */
static void handles_are_independent(void** state) {
    (void)state;
    test_buffer p1 = buffer_alloc(300, BNB_DTYPE_F32), g1 = buffer_alloc(300, BNB_DTYPE_F32);
    test_buffer p2 = buffer_alloc(300, BNB_DTYPE_F32), g2 = buffer_alloc(300, BNB_DTYPE_F32);
    for (int64_t i = 0; i < 300; ++i) {
        buffer_set(&p1, i, 1.0);
        buffer_set(&p2, i, 1.0);
        buffer_set(&g1, i, 0.5);
        buffer_set(&g2, i, 0.5);
    }
    bnb_optimizer* a = make_optimizer(BNB_ALGO_ADAM, 32, 1, 1e-3, -1, 4096);
    bnb_optimizer* b = make_optimizer(BNB_ALGO_ADAM, 32, 1, 1e-3, -1, 4096);
    add_param(a, &p1, &g1);
    add_param(b, &p2, &g2);
    assert_int_equal(bnb_step(a), BNB_OK);
    assert_true(buffer_get(&p1, 0) < 1.0);
    assert_true(buffer_get(&p2, 0) == 1.0);
    assert_int_equal(param_info(b, 0).step, 0);
    bnb_optimizer_destroy(a);
    bnb_optimizer_destroy(b);
    buffer_free(&p1);
    buffer_free(&g1);
    buffer_free(&p2);
    buffer_free(&g2);
}

static void version_and_constants(void** state) {
    (void)state;
    assert_int_equal(bnb_version_number(), BNB_VERSION_NUMBER);
    assert_string_equal(bnb_version_string(), BNB_VERSION_STRING);
    assert_int_equal(BNB_VERSION_NUMBER, BNB_VERSION_MAJOR * 10000 + BNB_VERSION_MINOR * 100 + BNB_VERSION_PATCH);
    assert_int_equal(bnb_block_size(), BNB_BLOCK_SIZE);
    assert_int_equal(bnb_qmap_size(), BNB_QMAP_SIZE);
    assert_true((bnb_features() & BNB_FEATURE_CPU) != 0);
    /* The CUDA entry points exist in every build; without the backend they answer UNSUPPORTED. */
    int32_t devices = 0;
    const bnb_status cuda = bnb_cuda_device_count(&devices);
    if ((bnb_features() & BNB_FEATURE_CUDA) == 0) {
        assert_int_equal(cuda, BNB_ERR_UNSUPPORTED);
    } else {
        assert_true(cuda == BNB_OK || cuda == BNB_ERR_NO_CUDA_DEVICE);
    }
}

static void status_strings(void** state) {
    (void)state;
    for (int s = BNB_OK; s <= BNB_ERR_INTERNAL; ++s) {
        const char* text = bnb_status_string((bnb_status)s);
        assert_non_null(text);
        assert_true(text[0] != '\0');
        for (int t = BNB_OK; t < s; ++t) assert_string_not_equal(text, bnb_status_string((bnb_status)t));
    }
    assert_non_null(bnb_status_string((bnb_status)999));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_and_destroy_every_algorithm),
        cmocka_unit_test(destroy_null_is_a_noop),
        cmocka_unit_test(register_query_and_step),
        cmocka_unit_test(handles_are_independent),
        cmocka_unit_test(version_and_constants),
        cmocka_unit_test(status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
