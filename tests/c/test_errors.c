/* Every bad input returns the documented status, sets a thread-local message naming the argument and
 * its value, and changes nothing. Nothing aborts. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/optim_helpers.h"

/* The call returned `expected` and the message contains every needle (NULL-terminated list). */
static void check_failure(bnb_status got, bnb_status expected, const char* call, ...) {
    if (got != expected) fail_msg("%s: status %d, expected %d (%s)", call, (int)got, (int)expected, bnb_last_error_message());
    const char* message = bnb_last_error_message();
    assert_non_null(message);
    assert_true(message[0] != '\0');
    va_list needles;
    va_start(needles, call);
    for (const char* needle = va_arg(needles, const char*); needle != NULL; needle = va_arg(needles, const char*)) {
        if (strstr(message, needle) == NULL) fail_msg("%s: message \"%s\" lacks \"%s\"", call, message, needle);
    }
    va_end(needles);
}

#define EXPECT_FAIL(call, expected, ...) check_failure((call), (expected), #call, __VA_ARGS__, (const char*)NULL)

static bnb_optimizer_config adam_config(void) {
    bnb_optimizer_config c;
    assert_int_equal(bnb_optimizer_config_init(&c, BNB_ALGO_ADAM), BNB_OK);
    return c;
}

static void config_errors(void** state) {
    (void)state;
    bnb_optimizer* opt = NULL;
    bnb_optimizer_config c = adam_config();
    EXPECT_FAIL(bnb_optimizer_config_init_sized(NULL, sizeof c, BNB_ALGO_ADAM), BNB_ERR_INVALID_ARGUMENT,
                "bnb_optimizer_config_init_sized", "config is NULL");
    EXPECT_FAIL(bnb_optimizer_config_init_sized(&c, 4, BNB_ALGO_ADAM), BNB_ERR_VERSION, "struct_size = 4");
    EXPECT_FAIL(bnb_optimizer_config_init(&c, (bnb_algorithm)42), BNB_ERR_INVALID_ARGUMENT, "algorithm = 42");
    EXPECT_FAIL(bnb_optimizer_create(NULL, &opt), BNB_ERR_INVALID_ARGUMENT, "bnb_optimizer_create", "config is NULL");
    EXPECT_FAIL(bnb_optimizer_create(&c, NULL), BNB_ERR_INVALID_ARGUMENT, "out is NULL");

    size_t count = 0;
#define CASE(body, st, text)                                                                  \
    do {                                                                                      \
        bnb_optimizer_config k = adam_config();                                               \
        body;                                                                                 \
        bnb_optimizer* o = (bnb_optimizer*)0x10;                                              \
        check_failure(bnb_optimizer_create(&k, &o), (st), #body, (text), (const char*)NULL);  \
        assert_ptr_equal(o, (bnb_optimizer*)0x10);                                            \
        ++count;                                                                              \
    } while (0)
    CASE(k.algorithm = 0, BNB_ERR_INVALID_ARGUMENT, "config->algorithm = 0");
    CASE(k.algorithm = 99, BNB_ERR_INVALID_ARGUMENT, "config->algorithm = 99");
    CASE(k.optim_bits = 16, BNB_ERR_INVALID_ARGUMENT, "config->optim_bits = 16");
    CASE(k.lr = -1.0, BNB_ERR_INVALID_ARGUMENT, "config->lr = -1");
    CASE(k.lr = NAN, BNB_ERR_INVALID_ARGUMENT, "config->lr = nan");
    CASE(k.lr = INFINITY, BNB_ERR_INVALID_ARGUMENT, "config->lr = inf");
    CASE(k.beta1 = 1.0, BNB_ERR_INVALID_ARGUMENT, "config->beta1 = 1 is outside [0, 1)");
    CASE(k.beta1 = -0.1, BNB_ERR_INVALID_ARGUMENT, "config->beta1 = -0.1");
    CASE(k.beta2 = 1.5, BNB_ERR_INVALID_ARGUMENT, "config->beta2 = 1.5");
    CASE(k.eps = -1e-8, BNB_ERR_INVALID_ARGUMENT, "config->eps = -1e-08");
    CASE(k.weight_decay = -0.01, BNB_ERR_INVALID_ARGUMENT, "config->weight_decay = -0.01");
    CASE(k.block_wise = 2, BNB_ERR_INVALID_ARGUMENT, "config->block_wise = 2");
    CASE(k.amsgrad = 1, BNB_ERR_UNSUPPORTED, "config->amsgrad = 1");
    CASE(k.amsgrad = 3, BNB_ERR_INVALID_ARGUMENT, "config->amsgrad = 3");
    CASE(k.min_8bit_size = -1, BNB_ERR_INVALID_ARGUMENT, "config->min_8bit_size = -1");
    CASE(k.struct_size = 3, BNB_ERR_VERSION, "config->struct_size = 3");
#undef CASE
    assert_int_equal(count, 16);
}

static void null_handle_and_outputs(void** state) {
    (void)state;
    int64_t value = 0;
    double d = 0;
    float f[4];
    bnb_tensor t = {f, 4, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_param_info info;
    info.struct_size = sizeof info;
    bnb_optimizer_config c = adam_config();
    bnb_hparam_bounds bounds;
    EXPECT_FAIL(bnb_step(NULL), BNB_ERR_INVALID_ARGUMENT, "bnb_step: optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_add_group(NULL, &value), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_group_count(NULL, &value), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_set_hparam(NULL, 0, BNB_HPARAM_LR, 0.1), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_get_hparam(NULL, 0, BNB_HPARAM_LR, &d), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_add_param(NULL, 0, &t, NULL, NULL), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_bind_param(NULL, 0, &t, NULL), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_param_count(NULL, &value), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_param_info(NULL, 0, &info), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_state_bytes(NULL, &value), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_copy_state(NULL, 0, BNB_STATE1, f, 4), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    EXPECT_FAIL(bnb_optimizer_get_config(NULL, &c), BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");

    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 32, 1, 1e-3, -1, 4096);
    EXPECT_FAIL(bnb_optimizer_add_group(opt, NULL), BNB_ERR_INVALID_ARGUMENT, "out_group is NULL");
    EXPECT_FAIL(bnb_optimizer_group_count(opt, NULL), BNB_ERR_INVALID_ARGUMENT, "out_count is NULL");
    EXPECT_FAIL(bnb_optimizer_get_hparam(opt, 0, BNB_HPARAM_LR, NULL), BNB_ERR_INVALID_ARGUMENT, "out_value is NULL");
    EXPECT_FAIL(bnb_optimizer_param_count(opt, NULL), BNB_ERR_INVALID_ARGUMENT, "out_count is NULL");
    EXPECT_FAIL(bnb_optimizer_state_bytes(opt, NULL), BNB_ERR_INVALID_ARGUMENT, "out_bytes is NULL");
    EXPECT_FAIL(bnb_optimizer_get_config(opt, NULL), BNB_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_FAIL(bnb_hparam_get_bounds(BNB_ALGO_ADAM, BNB_HPARAM_LR, NULL), BNB_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_FAIL(bnb_hparam_get_bounds((bnb_algorithm)77, BNB_HPARAM_LR, &bounds), BNB_ERR_INVALID_ARGUMENT,
                "algorithm = 77");
    EXPECT_FAIL(bnb_hparam_get_bounds(BNB_ALGO_ADAM, (bnb_hparam)999, &bounds), BNB_ERR_INVALID_ARGUMENT,
                "hparam = 999");
    int64_t groups = 0;
    assert_int_equal(bnb_optimizer_group_count(opt, &groups), BNB_OK);
    assert_int_equal(groups, 1);
    bnb_optimizer_destroy(opt);
}

static void hparam_errors_change_nothing(void** state) {
    (void)state;
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, 32, 1, 1e-3, -1, 4096);
    double value = 0;
    EXPECT_FAIL(bnb_optimizer_set_hparam(opt, 5, BNB_HPARAM_LR, 0.1), BNB_ERR_INVALID_ARGUMENT,
                "bnb_optimizer_set_hparam", "group = 5");
    EXPECT_FAIL(bnb_optimizer_set_hparam(opt, -1, BNB_HPARAM_LR, 0.1), BNB_ERR_INVALID_ARGUMENT, "group = -1");
    EXPECT_FAIL(bnb_optimizer_set_hparam(opt, 0, (bnb_hparam)999, 0.1), BNB_ERR_INVALID_ARGUMENT, "hparam = 999");
    EXPECT_FAIL(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_LR, -0.5), BNB_ERR_INVALID_ARGUMENT, "lr = -0.5");
    EXPECT_FAIL(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_BETA2, 1.0), BNB_ERR_INVALID_ARGUMENT, "beta2 = 1");
    EXPECT_FAIL(bnb_optimizer_set_hparam(opt, 0, BNB_HPARAM_EPS, NAN), BNB_ERR_INVALID_ARGUMENT, "eps = nan");
    EXPECT_FAIL(bnb_optimizer_get_hparam(opt, 1, BNB_HPARAM_LR, &value), BNB_ERR_INVALID_ARGUMENT, "group = 1");
    EXPECT_FAIL(bnb_optimizer_get_hparam(opt, 0, (bnb_hparam)0, &value), BNB_ERR_INVALID_ARGUMENT, "hparam = 0");
    assert_int_equal(bnb_optimizer_get_hparam(opt, 0, BNB_HPARAM_LR, &value), BNB_OK);
    assert_true(value == 1e-3);
    assert_int_equal(bnb_optimizer_get_hparam(opt, 0, BNB_HPARAM_BETA2, &value), BNB_OK);
    assert_true(value == 0.999);
    bnb_optimizer_destroy(opt);
}

static void param_errors_change_nothing(void** state) {
    (void)state;
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 32, 1, 1e-3, -1, 4096);
    float data[32];
    uint16_t half[32];
    float other[32];
    bnb_tensor p = {data, 20, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor g = {other, 20, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor bad;
#define WITH(t, field, value) (bad = (t), bad.field = (value), &bad)
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, NULL, &g, NULL), BNB_ERR_INVALID_ARGUMENT, "bnb_optimizer_add_param",
                "param is NULL");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 3, &p, &g, NULL), BNB_ERR_INVALID_ARGUMENT, "group = 3");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, dtype, 7), &g, NULL), BNB_ERR_INVALID_ARGUMENT,
                "param->dtype = 7");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, dtype, 0), &g, NULL), BNB_ERR_INVALID_ARGUMENT,
                "param->dtype = 0");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, numel, -5), &g, NULL), BNB_ERR_INVALID_ARGUMENT,
                "param->numel = -5");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, numel, INT64_MAX), NULL, NULL), BNB_ERR_INVALID_ARGUMENT,
                "param->numel = 9223372036854775807", "overflow");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, data, NULL), &g, NULL), BNB_ERR_INVALID_ARGUMENT,
                "param->data is NULL");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, data, (char*)data + 2), NULL, NULL), BNB_ERR_INVALID_ARGUMENT,
                "param->data", "not aligned");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, device, -2), &g, NULL), BNB_ERR_INVALID_ARGUMENT,
                "param->device = -2");
    if ((bnb_features() & BNB_FEATURE_CUDA) == 0) {
        EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, device, 0), NULL, NULL), BNB_ERR_UNSUPPORTED,
                    "param->device = 0", "CUDA");
    } else { /* host memory as CUDA memory: no device here, or not device memory where there is one */
        int32_t devices = 0;
        const bnb_status expected = bnb_cuda_device_count(&devices) == BNB_OK ? BNB_ERR_INVALID_ARGUMENT
                                                                               : BNB_ERR_NO_CUDA_DEVICE;
        EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, WITH(p, device, 0), NULL, NULL), expected, "param->",
                    "CUDA device");
    }
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &p, WITH(g, dtype, BNB_DTYPE_BF16), NULL), BNB_ERR_INVALID_ARGUMENT,
                "dtype mismatch: grad->dtype = bf16, param->dtype = f32");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &p, WITH(g, numel, 10), NULL), BNB_ERR_INVALID_ARGUMENT,
                "grad->numel = 10 differs from param->numel = 20");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &p, &p, NULL), BNB_ERR_INVALID_ARGUMENT, "grad->data",
                "parameter's own buffer");
    int64_t count = -1;
    assert_int_equal(bnb_optimizer_param_count(opt, &count), BNB_OK);
    assert_int_equal(count, 0);

    int64_t index = -1;
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &p, &g, &index), BNB_OK);
    assert_int_equal(index, 0);
    bnb_tensor h = {half, 20, BNB_DTYPE_F16, BNB_DEVICE_CPU};
    EXPECT_FAIL(bnb_optimizer_bind_param(opt, 5, &p, &g), BNB_ERR_INVALID_ARGUMENT, "bnb_optimizer_bind_param",
                "index = 5");
    EXPECT_FAIL(bnb_optimizer_bind_param(opt, 0, NULL, &g), BNB_ERR_INVALID_ARGUMENT, "param is NULL");
    EXPECT_FAIL(bnb_optimizer_bind_param(opt, 0, WITH(p, numel, 10), NULL), BNB_ERR_INVALID_ARGUMENT,
                "param->numel = 10 differs from the registered 20");
    EXPECT_FAIL(bnb_optimizer_bind_param(opt, 0, &h, NULL), BNB_ERR_INVALID_ARGUMENT,
                "dtype mismatch: param->dtype = f16, registered as f32");

    float dst[32];
    bnb_param_info info;
    info.struct_size = 8;
    EXPECT_FAIL(bnb_optimizer_param_info(opt, 0, &info), BNB_ERR_VERSION, "struct_size = 8");
    info.struct_size = sizeof info;
    EXPECT_FAIL(bnb_optimizer_param_info(opt, 1, &info), BNB_ERR_INVALID_ARGUMENT, "index = 1");
    EXPECT_FAIL(bnb_optimizer_param_info(opt, 0, NULL), BNB_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_FAIL(bnb_optimizer_copy_state(opt, 1, BNB_STATE1, dst, 20), BNB_ERR_INVALID_ARGUMENT, "index = 1");
    EXPECT_FAIL(bnb_optimizer_copy_state(opt, 0, (bnb_state_id)3, dst, 20), BNB_ERR_INVALID_ARGUMENT, "state = 3");
    EXPECT_FAIL(bnb_optimizer_copy_state(opt, 0, BNB_STATE2, dst, 21), BNB_ERR_INVALID_ARGUMENT, "dst_count = 21",
                "20");
    EXPECT_FAIL(bnb_optimizer_copy_state(opt, 0, BNB_STATE2, NULL, 20), BNB_ERR_INVALID_ARGUMENT, "dst is NULL");
    assert_int_equal(bnb_optimizer_param_count(opt, &count), BNB_OK);
    assert_int_equal(count, 1);
    assert_int_equal(param_info(opt, 0).numel, 20);
#undef WITH
    bnb_optimizer_destroy(opt);
}

/* Overlapping buffers (docs/extreme-values.md): a parameter buffer shares no byte with another
 * parameter's buffer or with any gradient, at add_param and bind_param; the message names both
 * arguments and a failed call changes nothing. Gradients may be shared (they are only read); adjacent
 * and zero-element buffers do not overlap; a parameter without a gradient is compared once one is bound. */
static void overlapping_buffers_rejected(void** state) {
    (void)state;
    float* block = calloc(200, sizeof(float));
    assert_non_null(block);
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 32, 1, 1e-3, -1, 4096);
    bnb_tensor p0 = {block, 40, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor g0 = {block + 40, 40, BNB_DTYPE_F32, BNB_DEVICE_CPU}; /* adjacent to p0: no overlap */
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &p0, &g0, NULL), BNB_OK);

    bnb_tensor inside = {block + 10, 40, BNB_DTYPE_F32, BNB_DEVICE_CPU}; /* p0 and g0 */
    bnb_tensor straddle = {block + 70, 40, BNB_DTYPE_F32, BNB_DEVICE_CPU}; /* g0's last 10 and beyond */
    bnb_tensor free1 = {block + 120, 40, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor free2 = {block + 160, 40, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor own = {block + 130, 40, BNB_DTYPE_F32, BNB_DEVICE_CPU}; /* overlaps free1 */
    bnb_tensor half = {block + 10, 20, BNB_DTYPE_F16, BNB_DEVICE_CPU};   /* bytes 40..80 of p0 */
    bnb_tensor half_grad = {block + 160, 20, BNB_DTYPE_F16, BNB_DEVICE_CPU};
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &p0, &free1, NULL), BNB_ERR_INVALID_ARGUMENT, "param->data",
                "parameter 0's param->data");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &inside, &free2, NULL), BNB_ERR_INVALID_ARGUMENT, "param->data",
                "parameter 0's param->data");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &half, &half_grad, NULL), BNB_ERR_INVALID_ARGUMENT,
                "parameter 0's param->data");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &g0, &free1, NULL), BNB_ERR_INVALID_ARGUMENT, "param->data",
                "parameter 0's grad->data");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &straddle, &free1, NULL), BNB_ERR_INVALID_ARGUMENT,
                "parameter 0's grad->data");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &free1, &p0, NULL), BNB_ERR_INVALID_ARGUMENT, "grad->data",
                "parameter 0's param->data");
    EXPECT_FAIL(bnb_optimizer_add_param(opt, 0, &free1, &own, NULL), BNB_ERR_INVALID_ARGUMENT, "grad->data",
                "overlaps param->data");
    int64_t count = -1;
    assert_int_equal(bnb_optimizer_param_count(opt, &count), BNB_OK);
    assert_int_equal(count, 1);

    /* A shared gradient and a zero-element parameter are accepted. */
    int64_t index = -1;
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &free1, &g0, &index), BNB_OK);
    assert_int_equal(index, 1);
    bnb_tensor empty = {block, 0, BNB_DTYPE_F32, BNB_DEVICE_CPU};            /* at p0 */
    bnb_tensor empty_grad = {block + 50, 0, BNB_DTYPE_F32, BNB_DEVICE_CPU};  /* inside g0 */
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &empty, &empty_grad, NULL), BNB_OK);
    /* A parameter without a gradient is never touched: it may view p0 until a gradient is bound. */
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &p0, NULL, &index), BNB_OK);
    EXPECT_FAIL(bnb_optimizer_bind_param(opt, index, &p0, &free2), BNB_ERR_INVALID_ARGUMENT,
                "parameter 0's param->data");

    /* bind_param: the entry's own old buffers do not count; the others do, and a failure keeps the
     * old binding (the step below writes free1, not p0). */
    assert_int_equal(bnb_optimizer_bind_param(opt, 1, &free1, &g0), BNB_OK);
    EXPECT_FAIL(bnb_optimizer_bind_param(opt, 1, &inside, &free2), BNB_ERR_INVALID_ARGUMENT, "param->data",
                "parameter 0's param->data");
    EXPECT_FAIL(bnb_optimizer_bind_param(opt, 1, &free2, &inside), BNB_ERR_INVALID_ARGUMENT, "grad->data",
                "parameter 0's param->data");
    for (int i = 40; i < 80; ++i) block[i] = 0.5f; /* g0 */
    assert_int_equal(bnb_step(opt), BNB_OK);
    for (int i = 0; i < 40; ++i) assert_true(block[i] != 0.0f);           /* p0 stepped */
    for (int i = 120; i < 160; ++i) assert_true(block[i] != 0.0f);        /* free1 stepped */
    for (int i = 160; i < 200; ++i) assert_true(block[i] == 0.0f);        /* free2 untouched */
    bnb_optimizer_destroy(opt);
    free(block);
}

static void step_without_params(void** state) {
    (void)state;
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 8, 1, 1e-3, -1, 4096);
    EXPECT_FAIL(bnb_step(opt), BNB_ERR_INVALID_STATE, "bnb_step", "no parameter is registered");
    bnb_optimizer_destroy(opt);
}

/* A step whose states cannot be allocated returns out-of-memory and changes nothing, including the
 * parameters that could have been stepped. The huge parameter's buffers are never touched: states are
 * created before any update runs. */
static void step_out_of_memory_changes_nothing(void** state) {
    (void)state;
    test_buffer p = buffer_alloc(5000, BNB_DTYPE_F32), g = buffer_alloc(5000, BNB_DTYPE_F32);
    test_buffer before = buffer_alloc(5000, BNB_DTYPE_F32);
    for (int64_t i = 0; i < 5000; ++i) {
        buffer_set(&p, i, 0.5);
        buffer_set(&g, i, 0.25);
    }
    buffer_copy(&before, &p);
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 32, 1, 1e-3, -1, 4096);
    add_param(opt, &p, &g);
    /* Aligned addresses above any user-space mapping, never dereferenced; the two 2^60-byte ranges do
     * not overlap each other or the real buffers (overlapping buffers are rejected at registration). */
    const uintptr_t fake = (uintptr_t)1 << 62;
    const int64_t huge = INT64_C(1) << 58;
    bnb_tensor hp = {(void*)fake, huge, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor hg = {(void*)(fake + ((uintptr_t)1 << 60)), huge, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &hp, &hg, NULL), BNB_OK);
    EXPECT_FAIL(bnb_step(opt), BNB_ERR_OUT_OF_MEMORY, "bnb_step", "parameter 1");
    assert_true(buffer_equal_bits(&p, &before));
    assert_int_equal(param_info(opt, 0).step, 0);
    assert_int_equal(param_info(opt, 0).state_mode, BNB_STATE_MODE_NONE);
    assert_int_equal(param_info(opt, 1).step, 0);
    int64_t bytes = -1;
    assert_int_equal(bnb_optimizer_state_bytes(opt, &bytes), BNB_OK);
    assert_int_equal(bytes, 0);
    /* Unbinding the huge parameter's gradient lets the rest train. */
    assert_int_equal(bnb_optimizer_bind_param(opt, 1, &hp, NULL), BNB_OK);
    assert_int_equal(bnb_step(opt), BNB_OK);
    assert_int_equal(param_info(opt, 0).step, 1);
    assert_false(buffer_equal_bits(&p, &before));
    bnb_optimizer_destroy(opt);
    buffer_free(&p);
    buffer_free(&g);
    buffer_free(&before);
}

static void quantize_errors(void** state) {
    (void)state;
    float src[300] = {0};
    float out[300];
    float map[256];
    uint8_t codes[300];
    float absmax[2];
    bnb_tensor t = {src, 300, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor d = {out, 300, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    bnb_tensor bad;
    EXPECT_FAIL(bnb_qmap_copy((bnb_qmap_kind)9, map), BNB_ERR_INVALID_ARGUMENT, "bnb_qmap_copy", "kind = 9");
    EXPECT_FAIL(bnb_qmap_copy(BNB_QMAP_SIGNED, NULL), BNB_ERR_INVALID_ARGUMENT, "dst is NULL");
    EXPECT_FAIL(bnb_quantize_blockwise((bnb_qmap_kind)0, &t, codes, absmax), BNB_ERR_INVALID_ARGUMENT, "kind = 0");
    EXPECT_FAIL(bnb_quantize_blockwise(BNB_QMAP_SIGNED, NULL, codes, absmax), BNB_ERR_INVALID_ARGUMENT, "src is NULL");
    EXPECT_FAIL(bnb_quantize_blockwise(BNB_QMAP_SIGNED, &t, NULL, absmax), BNB_ERR_INVALID_ARGUMENT, "codes is NULL");
    EXPECT_FAIL(bnb_quantize_blockwise(BNB_QMAP_SIGNED, &t, codes, NULL), BNB_ERR_INVALID_ARGUMENT, "absmax is NULL");
    bad = t;
    bad.dtype = 12;
    EXPECT_FAIL(bnb_quantize_blockwise(BNB_QMAP_SIGNED, &bad, codes, absmax), BNB_ERR_INVALID_ARGUMENT,
                "src->dtype = 12");
    EXPECT_FAIL(bnb_dequantize_blockwise(BNB_QMAP_UNSIGNED, codes, absmax, NULL), BNB_ERR_INVALID_ARGUMENT,
                "bnb_dequantize_blockwise", "dst is NULL");
    EXPECT_FAIL(bnb_dequantize_blockwise(BNB_QMAP_UNSIGNED, NULL, absmax, &d), BNB_ERR_INVALID_ARGUMENT,
                "codes is NULL");
    bad = d;
    bad.numel = -1;
    EXPECT_FAIL(bnb_dequantize_blockwise(BNB_QMAP_UNSIGNED, codes, absmax, &bad), BNB_ERR_INVALID_ARGUMENT,
                "dst->numel = -1");
}

/* The message is per thread: a failure on one thread never overwrites another thread's message. */
typedef struct thread_case {
    double lr;
    pthread_barrier_t* barrier;
    int ok;
} thread_case;

static void* fail_and_check(void* arg) {
    thread_case* c = (thread_case*)arg;
    bnb_optimizer_config k;
    bnb_optimizer* opt = NULL;
    if (bnb_optimizer_config_init(&k, BNB_ALGO_ADAM) != BNB_OK) return NULL;
    k.lr = c->lr;
    const bnb_status status = bnb_optimizer_create(&k, &opt);
    char expected[64];
    snprintf(expected, sizeof expected, "config->lr = %g", c->lr);
    pthread_barrier_wait(c->barrier); /* both threads have failed before either reads */
    c->ok = status == BNB_ERR_INVALID_ARGUMENT && strstr(bnb_last_error_message(), expected) != NULL;
    pthread_barrier_wait(c->barrier);
    return NULL;
}

static void messages_are_thread_local(void** state) {
    (void)state;
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    thread_case cases[2] = {{-1.0, &barrier, 0}, {-2.0, &barrier, 0}};
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, fail_and_check, &cases[i]);
    for (int i = 0; i < 2; ++i) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&barrier);
    assert_true(cases[0].ok);
    assert_true(cases[1].ok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_errors),
        cmocka_unit_test(null_handle_and_outputs),
        cmocka_unit_test(hparam_errors_change_nothing),
        cmocka_unit_test(param_errors_change_nothing),
        cmocka_unit_test(overlapping_buffers_rejected),
        cmocka_unit_test(step_without_params),
        cmocka_unit_test(step_out_of_memory_changes_nothing),
        cmocka_unit_test(quantize_errors),
        cmocka_unit_test(messages_are_thread_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
