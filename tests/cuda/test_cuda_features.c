/* The CUDA backend's features beyond the update itself, each against the CPU backend bit for bit:
 *  - AMP hooks: a step with the found-inf flag set changes nothing, also when several such steps are
 *    enqueued before the host can read any flag back (the stream is held by a host callback, so the
 *    step counters stay unresolved: Note [step candidates]); the loss scale divides every gradient;
 *  - skip_step_on_nonfinite decided on the device, and in an optimizer mixing CPU and CUDA parameters
 *    (the CPU part follows the device's decision), with a parameter without gradient;
 *  - the config's stream and bnb_step_on_stream();
 *  - paged states: where they live (printed), page-out to the host and back, results unchanged;
 *  - checkpoints CPU -> CUDA, CUDA -> CPU and non-paged -> paged, continuing bit for bit;
 *  - state views of CUDA parameters, and the errors of CUDA arguments.
 * Without a GPU the program prints why and exits with 77 (ctest: Skipped). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cuda_runtime_api.h>

#include "bnb8.h"
#include "support/cuda_harness.h"
#include "support/optim_helpers.h"

static void ok(bnb_status status) {
    if (status != BNB_OK) fail_msg("status %d: %s", (int)status, bnb_last_error_message());
}

static void cuda_ok(cudaError_t error) {
    if (error != cudaSuccess) fail_msg("CUDA: %s", cudaGetErrorString(error));
}

static bnb_optimizer_config adamw_8bit(void) {
    bnb_optimizer_config cfg;
    ok(bnb_optimizer_config_init(&cfg, BNB_ALGO_ADAMW));
    cfg.optim_bits = 8;
    cfg.min_8bit_size = 0;
    return cfg;
}

static void CUDART_CB hold_stream(void* milliseconds) {
    const long ms = (long)(size_t)milliseconds;
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

/* After a first step (states and tables exist), seven steps enqueued while the stream is held, flags
 * 0 1 0 1 1 0 0: the CPU reference takes the four unflagged ones. Gradients and flags are copied on the
 * stream from per-step device buffers, so nothing waits for the device until the comparison. */
static void found_inf_steps_change_nothing(void** state) {
    (void)state;
    enum { kSteps = 7, kCount = 2 };
    const float flags[kSteps] = {0, 1, 0, 1, 1, 0, 0};
    const int64_t sizes[kCount] = {300, 70013};
    bnb_optimizer_config cfg = adamw_8bit();
    cfg.percentile_clipping = 5; /* the clipping history must not move either */
    twin t;
    twin_create(&t, &cfg, NULL, sizes, kCount, BNB_DTYPE_F32, 1.0, 11);
    float* flag_values = device_alloc(sizeof flags);
    float* found_inf = device_alloc(sizeof(float));
    to_device(flag_values, flags, sizeof flags);
    const float zero = 0.0f;
    to_device(found_inf, &zero, sizeof zero);
    ok(bnb_optimizer_set_amp_hooks(t.gpu.opt, NULL, found_inf));
    twin_gradients(&t, GRAD_PLAIN, 0);
    twin_step(&t);
    test_buffer grads[kSteps][kCount];
    void* staged[kSteps][kCount];
    for (int s = 0; s < kSteps; ++s) {
        for (int k = 0; k < kCount; ++k) grads[s][k] = buffer_alloc(sizes[k], BNB_DTYPE_F32);
        fill_gradients(&t.rng, grads[s], kCount, s == 3 ? GRAD_NONFINITE : GRAD_PLAIN, s);
        for (int k = 0; k < kCount; ++k) {
            staged[s][k] = device_alloc((size_t)sizes[k] * 4);
            to_device(staged[s][k], grads[s][k].data, (size_t)sizes[k] * 4);
        }
    }
    cuda_ok(cudaLaunchHostFunc(0, hold_stream, (void*)(size_t)300));
    for (int s = 0; s < kSteps; ++s) {
        for (int k = 0; k < kCount; ++k) {
            cuda_ok(cudaMemcpyAsync(t.gpu.grad[k], staged[s][k], (size_t)sizes[k] * 4, cudaMemcpyDeviceToDevice, 0));
        }
        cuda_ok(cudaMemcpyAsync(found_inf, flag_values + s, sizeof(float), cudaMemcpyDeviceToDevice, 0));
        side_step(&t.gpu);
        if (flags[s] == 0.0f) {
            side_set_gradients(&t.cpu, grads[s]);
            side_step(&t.cpu);
        }
    }
    twin_assert_equal(&t, "found-inf steps 0 1 0 1 1 0 0");
    assert_int_equal(param_info(t.gpu.opt, 0).step, 5);

    /* A flagged last step: nothing changes and the report says skipped. */
    size_t before_size = 0, after_size = 0;
    unsigned char* before = checkpoint_bytes(t.gpu.opt, &before_size);
    const float one = 1.0f;
    to_device(found_inf, &one, sizeof one);
    side_step(&t.gpu);
    bnb_step_info info;
    info.struct_size = sizeof info;
    ok(bnb_optimizer_last_step_info(t.gpu.opt, &info));
    assert_int_equal(info.skipped, 1);
    assert_int_equal(info.params_stepped, 0);
    unsigned char* after = checkpoint_bytes(t.gpu.opt, &after_size);
    assert_int_equal(before_size, after_size);
    assert_memory_equal(before, after, before_size);
    free(before);
    free(after);
    for (int s = 0; s < kSteps; ++s) {
        for (int k = 0; k < kCount; ++k) {
            buffer_free(&grads[s][k]);
            device_free(staged[s][k]);
        }
    }
    ok(bnb_optimizer_set_amp_hooks(t.gpu.opt, NULL, NULL));
    device_free(flag_values);
    device_free(found_inf);
    twin_destroy(&t);
}

/* The CUDA optimizer reads gradients stored times 1024 and divides by the loss scale: exact, so it
 * matches the CPU optimizer given the unscaled gradients, non-finite elements included. */
static void grad_scale_unscales(void** state) {
    (void)state;
    const int64_t sizes[2] = {257, 4097};
    bnb_optimizer_config cfg = adamw_8bit();
    cfg.percentile_clipping = 5;
    twin t;
    twin_create(&t, &cfg, NULL, sizes, 2, BNB_DTYPE_F32, 1.0, 12);
    const float scale = 1024.0f;
    float* device_scale = device_alloc(sizeof scale);
    to_device(device_scale, &scale, sizeof scale);
    ok(bnb_optimizer_set_amp_hooks(t.gpu.opt, device_scale, NULL));
    for (int step = 0; step < 4; ++step) {
        twin_gradients(&t, step == 2 ? GRAD_NONFINITE : GRAD_PLAIN, step);
        test_buffer scaled[2];
        for (int k = 0; k < 2; ++k) {
            scaled[k] = buffer_alloc(sizes[k], BNB_DTYPE_F32);
            for (int64_t i = 0; i < sizes[k]; ++i) buffer_set(&scaled[k], i, buffer_get(&t.grad[k], i) * 1024.0);
        }
        side_set_gradients(&t.gpu, scaled);
        twin_step(&t);
        twin_assert_equal(&t, "grad_scale 1024");
        for (int k = 0; k < 2; ++k) buffer_free(&scaled[k]);
    }
    device_free(device_scale);
    twin_destroy(&t);
}

static void skip_step_on_nonfinite(void** state) {
    (void)state;
    const int64_t sizes[2] = {1000, 5000};
    bnb_optimizer_config cfg = adamw_8bit();
    cfg.skip_step_on_nonfinite = 1;
    cfg.block_wise = 0;
    twin t;
    twin_create(&t, &cfg, NULL, sizes, 2, BNB_DTYPE_BF16, 1.0, 13);
    const grad_pattern patterns[4] = {GRAD_PLAIN, GRAD_NONFINITE, GRAD_PLAIN, GRAD_NONFINITE};
    for (int step = 0; step < 4; ++step) {
        twin_gradients(&t, patterns[step], step);
        twin_step(&t);
        twin_assert_equal(&t, "skip_step_on_nonfinite");
    }
    twin_destroy(&t);
}

/* One optimizer with a CPU parameter, a CUDA parameter and a CUDA parameter without gradient, against
 * an all-CPU one: non-finite gradients on either side skip the whole step. */
static void mixed_cpu_and_cuda_parameters(void** state) {
    (void)state;
    bnb_optimizer_config cfg = adamw_8bit();
    cfg.skip_step_on_nonfinite = 1;
    test_rng rng;
    rng_seed(&rng, 14);
    test_buffer p[3], g[3];
    for (int k = 0; k < 3; ++k) {
        p[k] = buffer_alloc(600, BNB_DTYPE_F32);
        g[k] = buffer_alloc(600, BNB_DTYPE_F32);
        fill_normal(&rng, &p[k], 1.0);
    }
    bnb_optimizer *reference = NULL, *mixed = NULL;
    ok(bnb_optimizer_create(&cfg, &reference));
    ok(bnb_optimizer_create(&cfg, &mixed));
    void* dp[2] = {device_alloc(2400), device_alloc(2400)};
    void* dg = device_alloc(2400);
    for (int k = 0; k < 3; ++k) {
        bnb_tensor rp = buffer_tensor(&p[k]), rg = buffer_tensor(&g[k]);
        ok(bnb_optimizer_add_param(reference, 0, &rp, k == 2 ? NULL : &rg, NULL));
    }
    test_buffer host_param = buffer_alloc(600, BNB_DTYPE_F32);
    buffer_copy(&host_param, &p[0]);
    bnb_tensor mp0 = buffer_tensor(&host_param), mg0 = buffer_tensor(&g[0]);
    ok(bnb_optimizer_add_param(mixed, 0, &mp0, &mg0, NULL));
    to_device(dp[0], p[1].data, 2400);
    to_device(dp[1], p[2].data, 2400);
    bnb_tensor mp1 = {dp[0], 600, BNB_DTYPE_F32, 0}, mg1 = {dg, 600, BNB_DTYPE_F32, 0};
    bnb_tensor mp2 = {dp[1], 600, BNB_DTYPE_F32, 0};
    ok(bnb_optimizer_add_param(mixed, 0, &mp1, &mg1, NULL));
    ok(bnb_optimizer_add_param(mixed, 0, &mp2, NULL, NULL));
    for (int step = 0; step < 5; ++step) {
        fill_gradients(&rng, g, 2, GRAD_PLAIN, step);
        if (step == 1) buffer_set(&g[0], 7, NAN);        /* CPU side */
        if (step == 3) buffer_set(&g[1], 300, INFINITY); /* CUDA side */
        to_device(dg, g[1].data, 2400);
        ok(bnb_step(reference));
        ok(bnb_step(mixed));
        assert_int_equal(buffer_equal_bits(&host_param, &p[0]), 1);
        test_buffer back = buffer_alloc(600, BNB_DTYPE_F32);
        to_host(back.data, dp[0], 2400);
        assert_int_equal(buffer_equal_bits(&back, &p[1]), 1);
        to_host(back.data, dp[1], 2400);
        assert_int_equal(buffer_equal_bits(&back, &p[2]), 1);
        buffer_free(&back);
        bnb_step_info a, b;
        a.struct_size = b.struct_size = sizeof a;
        ok(bnb_optimizer_last_step_info(reference, &a));
        ok(bnb_optimizer_last_step_info(mixed, &b));
        assert_int_equal(a.skipped, b.skipped);
        assert_int_equal(a.skipped, step == 1 || step == 3);
        assert_int_equal(a.nonfinite_count, b.nonfinite_count);
        assert_int_equal(a.params_stepped, b.params_stepped);
        size_t x_size = 0, y_size = 0;
        unsigned char* x = checkpoint_bytes(reference, &x_size);
        unsigned char* y = checkpoint_bytes(mixed, &y_size);
        assert_int_equal(x_size, y_size);
        assert_memory_equal(x, y, x_size);
        free(x);
        free(y);
    }
    assert_int_equal(param_info(mixed, 2).step, 0);
    bnb_optimizer_destroy(reference);
    bnb_optimizer_destroy(mixed);
    device_free(dp[0]);
    device_free(dp[1]);
    device_free(dg);
    buffer_free(&host_param);
    for (int k = 0; k < 3; ++k) {
        buffer_free(&p[k]);
        buffer_free(&g[k]);
    }
}

/* Steps on the config's non-blocking stream, then on another through bnb_step_on_stream(), with the
 * gradients copied on that stream (stream order, no host synchronization in between). */
static void streams(void** state) {
    (void)state;
    cudaStream_t first = NULL, second = NULL;
    cuda_ok(cudaStreamCreateWithFlags(&first, cudaStreamNonBlocking));
    cuda_ok(cudaStreamCreateWithFlags(&second, cudaStreamNonBlocking));
    const int64_t sizes[2] = {4097, 70013};
    bnb_optimizer_config cfg = adamw_8bit();
    bnb_optimizer_config gpu_cfg = cfg;
    gpu_cfg.cuda_stream = first;
    twin t;
    twin_create(&t, &cfg, &gpu_cfg, sizes, 2, BNB_DTYPE_F16, 1.0, 15);
    for (int step = 0; step < 4; ++step) {
        fill_gradients(&t.rng, t.grad, 2, GRAD_PLAIN, step);
        side_set_gradients(&t.cpu, t.grad);
        side_step(&t.cpu);
        cudaStream_t stream = step % 2 ? second : first;
        for (int k = 0; k < 2; ++k) {
            cuda_ok(cudaMemcpyAsync(t.gpu.grad[k], t.grad[k].data, (size_t)sizes[k] * 2, cudaMemcpyHostToDevice,
                                    stream));
        }
        ok(step % 2 ? bnb_step_on_stream(t.gpu.opt, second) : bnb_step(t.gpu.opt));
        cuda_ok(cudaStreamSynchronize(stream)); /* before the next step's copies on the other stream */
        twin_assert_equal(&t, step % 2 ? "bnb_step_on_stream" : "config stream");
    }
    twin_destroy(&t);
    cuda_ok(cudaStreamDestroy(first));
    cuda_ok(cudaStreamDestroy(second));
}

/* Steps on alternating streams with no host synchronization between them: each step waits, on the
 * device, for the previous one (Note [stream switch], device_steps.cpp), since all share the optimizer's
 * buffers. The first stream is held before step 3, so without that wait step 4 (on the second stream) would
 * run first and the result would differ from the CPU's. The gradients stay the same for every step. */
static void streams_back_to_back(void** state) {
    (void)state;
    cudaStream_t first = NULL, second = NULL;
    cuda_ok(cudaStreamCreateWithFlags(&first, cudaStreamNonBlocking));
    cuda_ok(cudaStreamCreateWithFlags(&second, cudaStreamNonBlocking));
    const int64_t sizes[2] = {4097, 70013};
    const bnb_optimizer_config cfg = adamw_8bit();
    twin t;
    twin_create(&t, &cfg, NULL, sizes, 2, BNB_DTYPE_F32, 1.0, 16);
    twin_gradients(&t, GRAD_PLAIN, 0);
    for (int step = 0; step < 6; ++step) {
        side_step(&t.cpu);
        if (step == 2) cuda_ok(cudaLaunchHostFunc(first, hold_stream, (void*)(size_t)300));
        ok(bnb_step_on_stream(t.gpu.opt, step % 2 ? second : first));
    }
    ok(bnb_optimizer_synchronize(t.gpu.opt));
    twin_assert_equal(&t, "six steps on alternating streams, no host synchronization");
    twin_destroy(&t);
    cuda_ok(cudaStreamDestroy(first));
    cuda_ok(cudaStreamDestroy(second));
}

static bnb_state_location location(bnb_optimizer* opt, int64_t index) {
    bnb_state_location where;
    where.struct_size = sizeof where;
    ok(bnb_optimizer_state_location(opt, index, &where));
    return where;
}

static const char* memory_name(int32_t memory) {
    switch (memory) {
        case BNB_MEMORY_HOST: return "host";
        case BNB_MEMORY_DEVICE: return "device";
        case BNB_MEMORY_MANAGED: return "managed";
        default: return "none";
    }
}

static void report_location(const char* when, bnb_optimizer* opt, int64_t index) {
    const bnb_state_location w = location(opt, index);
    printf("  %-22s parameter %lld: states in %s memory (%lld bytes), now on %s%d; absmax in %s memory\n", when,
           (long long)index, memory_name(w.memory), (long long)w.bytes, w.device == BNB_DEVICE_CPU ? "the host " : "device ",
           w.device, memory_name(w.aux_memory));
}

static void paged_states(void** state) {
    (void)state;
    int managed = 0, concurrent = 0;
    cuda_ok(cudaDeviceGetAttribute(&managed, cudaDevAttrManagedMemory, 0));
    cuda_ok(cudaDeviceGetAttribute(&concurrent, cudaDevAttrConcurrentManagedAccess, 0));
    printf("  device 0: managed memory %d, concurrent managed access %d\n", managed, concurrent);
    const int64_t sizes[2] = {150000, 5000}; /* paged from 100000 elements */
    const bnb_optimizer_config cfg = adamw_8bit();
    bnb_optimizer_config paged = cfg;
    paged.paged = 1;
    twin t;
    twin_create(&t, &cfg, &paged, sizes, 2, BNB_DTYPE_F32, 1.0, 16);
    assert_int_equal(location(t.gpu.opt, 0).memory, BNB_MEMORY_NONE);
    twin_gradients(&t, GRAD_PLAIN, 0);
    twin_step(&t);
    report_location("after a step:", t.gpu.opt, 0);
    report_location("after a step:", t.gpu.opt, 1);
    bnb_state_location big = location(t.gpu.opt, 0);
    assert_int_equal(big.memory, managed ? BNB_MEMORY_MANAGED : BNB_MEMORY_DEVICE);
    assert_int_equal(big.aux_memory, BNB_MEMORY_DEVICE);
    assert_int_equal(big.bytes, 2 * 150000);
    assert_int_equal(location(t.gpu.opt, 1).memory, BNB_MEMORY_DEVICE);
    if (managed && concurrent) assert_int_equal(big.device, 0);
    ok(bnb_optimizer_page_out_states(t.gpu.opt));
    ok(bnb_optimizer_synchronize(t.gpu.opt));
    report_location("after page-out:", t.gpu.opt, 0);
    if (managed && concurrent) assert_int_equal(location(t.gpu.opt, 0).device, BNB_DEVICE_CPU);
    for (int step = 1; step < 4; ++step) {
        twin_gradients(&t, GRAD_PLAIN, step);
        twin_step(&t);
        twin_assert_equal(&t, "paged states");
    }
    report_location("after the next steps:", t.gpu.opt, 0);
    if (managed && concurrent) assert_int_equal(location(t.gpu.opt, 0).device, 0);
    twin_destroy(&t);
}

/* Saves `from`, loads it into `into` (whose parameters already hold `from`'s values): same checkpoint;
 * then steps both with the same gradients: they stay bitwise equal. */
static void continue_after_load(side* from, side* into, test_rng* rng, const char* label) {
    size_t size = 0, again_size = 0;
    unsigned char* bytes = checkpoint_bytes(from->opt, &size);
    ok(bnb_state_load_from_buffer(into->opt, bytes, size));
    unsigned char* again = checkpoint_bytes(into->opt, &again_size);
    assert_int_equal(size, again_size);
    assert_memory_equal(bytes, again, size);
    free(bytes);
    free(again);
    test_buffer grads[2];
    for (int k = 0; k < from->count; ++k) grads[k] = buffer_alloc(from->numel[k], from->dtype);
    for (int step = 0; step < 3; ++step) {
        fill_gradients(rng, grads, from->count, GRAD_PLAIN, step);
        side_set_gradients(from, grads);
        side_set_gradients(into, grads);
        side_step(from);
        side_step(into);
        sides_assert_equal(from, into, label);
    }
    for (int k = 0; k < from->count; ++k) buffer_free(&grads[k]);
}

static void checkpoints_across_devices(void** state) {
    (void)state;
    const int64_t sizes[2] = {70013, 300};
    bnb_optimizer_config cfg = adamw_8bit();
    cfg.percentile_clipping = 5;
    bnb_optimizer_config paged = cfg;
    paged.paged = 1;
    twin t;
    twin_create(&t, &cfg, NULL, sizes, 2, BNB_DTYPE_BF16, 1.0, 17);
    for (int step = 0; step < 3; ++step) {
        twin_gradients(&t, GRAD_PLAIN, step);
        twin_step(&t);
    }
    twin_assert_equal(&t, "before the checkpoints");
    test_buffer now[2] = {side_param(&t.cpu, 0), side_param(&t.cpu, 1)};
    side to_gpu, to_cpu, to_paged;
    side_create(&to_gpu, &cfg, now, 2, 1);
    side_create(&to_cpu, &cfg, now, 2, 0);
    side_create(&to_paged, &paged, now, 2, 1);
    continue_after_load(&t.cpu, &to_gpu, &t.rng, "CPU checkpoint into CUDA");
    continue_after_load(&t.gpu, &to_cpu, &t.rng, "CUDA checkpoint into CPU");
    /* t.gpu moved on with to_cpu; reload it into the paged optimizer from its current values. */
    test_buffer later[2] = {side_param(&t.gpu, 0), side_param(&t.gpu, 1)};
    for (int k = 0; k < 2; ++k) to_device(to_paged.param[k], later[k].data, (size_t)sizes[k] * 2);
    continue_after_load(&t.gpu, &to_paged, &t.rng, "non-paged checkpoint into paged");
    int managed = 0;
    cuda_ok(cudaDeviceGetAttribute(&managed, cudaDevAttrManagedMemory, 0));
    assert_int_equal(location(to_paged.opt, 0).memory, managed ? BNB_MEMORY_MANAGED : BNB_MEMORY_DEVICE);
    /* A load of the same layout writes into the same buffers (Note [stable state buffers]). */
    bnb_state_view view;
    view.struct_size = sizeof view;
    ok(bnb_optimizer_state_view(to_gpu.opt, 0, 1, &view));
    void* codes = view.data;
    size_t size = 0;
    unsigned char* bytes = checkpoint_bytes(t.cpu.opt, &size);
    ok(bnb_state_load_from_buffer(to_gpu.opt, bytes, size));
    free(bytes);
    ok(bnb_optimizer_state_view(to_gpu.opt, 0, 1, &view));
    assert_ptr_equal(view.data, codes);
    for (int k = 0; k < 2; ++k) {
        buffer_free(&now[k]);
        buffer_free(&later[k]);
    }
    side_destroy(&to_gpu);
    side_destroy(&to_cpu);
    side_destroy(&to_paged);
    twin_destroy(&t);
}

static void views_and_errors(void** state) {
    (void)state;
    bnb_optimizer_config cfg = adamw_8bit();
    bnb_optimizer* opt = NULL;
    ok(bnb_optimizer_create(&cfg, &opt));
    float* found_inf = device_alloc(sizeof(float));
    assert_int_equal(bnb_optimizer_set_amp_hooks(opt, NULL, found_inf), BNB_ERR_INVALID_STATE);
    float host[64] = {0};
    bnb_tensor on_host = {host, 64, BNB_DTYPE_F32, 0};
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &on_host, NULL, NULL), BNB_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(bnb_last_error_message(), "param->data"));
    int32_t devices = 0;
    ok(bnb_cuda_device_count(&devices));
    void* p = device_alloc(256 * 4);
    void* g = device_alloc(256 * 4);
    cuda_ok(cudaMemset(p, 0, 256 * 4));
    cuda_ok(cudaMemset(g, 0, 256 * 4));
    bnb_tensor missing = {p, 256, BNB_DTYPE_F32, devices};
    assert_int_equal(bnb_optimizer_add_param(opt, 0, &missing, NULL, NULL), BNB_ERR_NO_CUDA_DEVICE);
    bnb_tensor dp = {p, 256, BNB_DTYPE_F32, 0}, dg = {g, 256, BNB_DTYPE_F32, 0};
    ok(bnb_optimizer_add_param(opt, 0, &dp, &dg, NULL));
    if (devices > 1) {
        int previous = 0;
        cuda_ok(cudaGetDevice(&previous));
        cuda_ok(cudaSetDevice(1));
        void* other = device_alloc(256 * 4);
        cuda_ok(cudaSetDevice(previous));
        bnb_tensor second = {other, 256, BNB_DTYPE_F32, 1};
        assert_int_equal(bnb_optimizer_add_param(opt, 0, &second, NULL, NULL), BNB_ERR_UNSUPPORTED);
        device_free(other);
    }
    assert_int_equal(bnb_optimizer_set_amp_hooks(opt, host, NULL), BNB_ERR_INVALID_ARGUMENT);
    ok(bnb_optimizer_set_amp_hooks(opt, NULL, found_inf));
    ok(bnb_optimizer_set_amp_hooks(opt, NULL, NULL));
    uint8_t codes[256];
    float absmax[1];
    assert_int_equal(bnb_quantize_blockwise(BNB_QMAP_SIGNED, &dp, codes, absmax), BNB_ERR_INVALID_ARGUMENT);
    ok(bnb_step(opt));
    bnb_state_view view;
    view.struct_size = sizeof view;
    ok(bnb_optimizer_state_view(opt, 0, 1, &view));
    assert_int_equal(view.memory, BNB_MEMORY_DEVICE);
    struct cudaPointerAttributes attributes;
    cuda_ok(cudaPointerGetAttributes(&attributes, view.data));
    assert_int_equal(attributes.type, cudaMemoryTypeDevice);
    cuda_ok(cudaPointerGetAttributes(&attributes, view.absmax));
    assert_int_equal(attributes.type, cudaMemoryTypeDevice);
    assert_int_equal(location(opt, 0).memory, BNB_MEMORY_DEVICE);
    bnb_optimizer_destroy(opt);
    device_free(p);
    device_free(g);
    device_free(found_inf);
}

int main(int argc, char** argv) {
    harness_require_gpu("test_cuda_features");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(found_inf_steps_change_nothing),
        cmocka_unit_test(grad_scale_unscales),
        cmocka_unit_test(skip_step_on_nonfinite),
        cmocka_unit_test(mixed_cpu_and_cuda_parameters),
        cmocka_unit_test(streams),
        cmocka_unit_test(streams_back_to_back),
        cmocka_unit_test(paged_states),
        cmocka_unit_test(checkpoints_across_devices),
        cmocka_unit_test(views_and_errors),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
