#include "cuda_harness.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cuda_runtime_api.h>

#include "support/optim_helpers.h"

static void check_cuda(cudaError_t error, const char* what) {
    if (error != cudaSuccess) fail_msg("%s: %s", what, cudaGetErrorString(error));
}

static void expect_ok(bnb_status status, const char* what) {
    if (status != BNB_OK) fail_msg("%s: status %d: %s", what, (int)status, bnb_last_error_message());
}

void harness_require_gpu(const char* test) {
    if ((bnb_features() & BNB_FEATURE_CUDA) == 0) {
        printf("%s: SKIPPED: this build of bnb8 has no CUDA backend\n", test);
        exit(HARNESS_SKIP);
    }
    int32_t devices = 0;
    if (bnb_cuda_device_count(&devices) != BNB_OK) {
        printf("%s: SKIPPED: %s\n", test, bnb_last_error_message());
        exit(HARNESS_SKIP);
    }
    printf("%s: %d CUDA device(s)\n", test, (int)devices);
}

void* device_alloc(size_t bytes) {
    void* data = NULL;
    check_cuda(cudaMalloc(&data, bytes > 0 ? bytes : 1), "cudaMalloc");
    return data;
}

void device_free(void* data) { check_cuda(cudaFree(data), "cudaFree"); }

void to_device(void* dst, const void* src, size_t bytes) {
    if (bytes > 0) check_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
}

void to_host(void* dst, const void* src, size_t bytes) {
    if (bytes > 0) check_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
}

static size_t side_bytes(const side* s, int k) { return (size_t)s->numel[k] * (size_t)dtype_bytes(s->dtype); }

static void copy_in(const side* s, void* dst, const void* src, size_t bytes) {
    if (s->on_gpu) {
        to_device(dst, src, bytes);
    } else if (bytes > 0) {
        memcpy(dst, src, bytes);
    }
}

void side_create(side* s, const bnb_optimizer_config* config, const test_buffer* initial, int count, int on_gpu) {
    assert_true(count <= SIDE_MAX);
    memset(s, 0, sizeof *s);
    s->on_gpu = on_gpu;
    s->count = count;
    s->dtype = initial[0].dtype;
    expect_ok(bnb_optimizer_create(config, &s->opt), on_gpu ? "create (CUDA)" : "create (CPU)");
    for (int k = 0; k < count; ++k) {
        s->numel[k] = initial[k].numel;
        const size_t bytes = side_bytes(s, k);
        s->param[k] = on_gpu ? device_alloc(bytes) : malloc(bytes > 0 ? bytes : 1);
        s->grad[k] = on_gpu ? device_alloc(bytes) : calloc(bytes > 0 ? bytes : 1, 1);
        copy_in(s, s->param[k], initial[k].data, bytes);
        const int32_t device = on_gpu ? 0 : BNB_DEVICE_CPU;
        bnb_tensor p = {s->param[k], s->numel[k], s->dtype, device};
        bnb_tensor g = {s->grad[k], s->numel[k], s->dtype, device};
        expect_ok(bnb_optimizer_add_param(s->opt, 0, &p, &g, NULL), "add_param");
    }
}

void side_set_gradients(side* s, const test_buffer* grads) {
    for (int k = 0; k < s->count; ++k) copy_in(s, s->grad[k], grads[k].data, side_bytes(s, k));
}

void side_step(side* s) { expect_ok(bnb_step(s->opt), s->on_gpu ? "bnb_step (CUDA)" : "bnb_step (CPU)"); }

test_buffer side_param(const side* s, int k) {
    test_buffer out = buffer_alloc(s->numel[k], s->dtype);
    if (s->on_gpu) {
        to_host(out.data, s->param[k], side_bytes(s, k));
    } else if (side_bytes(s, k) > 0) {
        memcpy(out.data, s->param[k], side_bytes(s, k));
    }
    return out;
}

void side_destroy(side* s) {
    bnb_optimizer_destroy(s->opt);
    for (int k = 0; k < s->count; ++k) {
        if (s->on_gpu) {
            device_free(s->param[k]);
            device_free(s->grad[k]);
        } else {
            free(s->param[k]);
            free(s->grad[k]);
        }
    }
}

unsigned char* checkpoint_bytes(const bnb_optimizer* opt, size_t* size) { return serialize_state(opt, size); }

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b); }

void sides_assert_equal(const side* a, const side* b, const char* label) {
    assert_int_equal(a->count, b->count);
    for (int k = 0; k < a->count; ++k) {
        test_buffer x = side_param(a, k), y = side_param(b, k);
        for (int64_t i = 0; i < x.numel; ++i) {
            const double u = buffer_get(&x, i), v = buffer_get(&y, i);
            if (!same_double(u, v) || (u == 0.0 && signbit(u) != signbit(v))) {
                fail_msg("%s: parameter %d element %lld: %a vs %a", label, k, (long long)i, u, v);
            }
        }
        buffer_free(&x);
        buffer_free(&y);
        const bnb_param_info p = param_info(a->opt, k), q = param_info(b->opt, k);
        if (p.step != q.step || p.state_mode != q.state_mode || !same_double(p.gradient_scale, q.gradient_scale) ||
            !same_double(p.trust_ratio, q.trust_ratio) || !same_double(p.update_sq_norm, q.update_sq_norm)) {
            fail_msg("%s: parameter %d info: step %lld/%lld, mode %d/%d, gs %a/%a, ratio %a/%a, u %a/%a", label, k,
                     (long long)p.step, (long long)q.step, p.state_mode, q.state_mode, p.gradient_scale,
                     q.gradient_scale, p.trust_ratio, q.trust_ratio, p.update_sq_norm, q.update_sq_norm);
        }
    }
    bnb_step_info p, q;
    p.struct_size = q.struct_size = sizeof p;
    expect_ok(bnb_optimizer_last_step_info(a->opt, &p), "last_step_info");
    expect_ok(bnb_optimizer_last_step_info(b->opt, &q), "last_step_info");
    if (p.nonfinite_count != q.nonfinite_count || p.params_stepped != q.params_stepped || p.skipped != q.skipped) {
        fail_msg("%s: step info: %lld/%lld/%d vs %lld/%lld/%d", label, (long long)p.nonfinite_count,
                 (long long)p.params_stepped, p.skipped, (long long)q.nonfinite_count, (long long)q.params_stepped,
                 q.skipped);
    }
    size_t x_size = 0, y_size = 0;
    unsigned char* x = checkpoint_bytes(a->opt, &x_size);
    unsigned char* y = checkpoint_bytes(b->opt, &y_size);
    if (x_size != y_size) fail_msg("%s: checkpoints of %zu and %zu bytes", label, x_size, y_size);
    for (size_t i = 0; i < x_size; ++i) {
        if (x[i] != y[i]) fail_msg("%s: checkpoints differ from byte %zu of %zu", label, i, x_size);
    }
    free(x);
    free(y);
}

void fill_gradients(test_rng* rng, test_buffer* grads, int count, grad_pattern pattern, int step) {
    for (int k = 0; k < count; ++k) {
        test_buffer* g = &grads[k];
        const int64_t n = g->numel;
        fill_normal(rng, g, 1e-2);
        if (pattern == GRAD_ZEROS) {
            for (int64_t i = step % 3; i < n; i += 3) buffer_set(g, i, (i / 3) % 2 ? -0.0 : 0.0);
        } else if (pattern == GRAD_NONFINITE && n > 0) {
            const double bad[3] = {NAN, INFINITY, -INFINITY};
            const int64_t spots[3] = {0, n > 255 ? 255 : n - 1, n - 1};
            for (int s = 0; s < 3; ++s) buffer_set(g, spots[s], bad[(s + step) % 3]);
            /* Both sides of the usable limit 2^64 (docs/extreme-values.md), and 1.8e19 at the same place
             * every step, whose square is finite but whose sums of squares can overflow. */
            const double extreme[4] = {1e30, 0x1p64, 0x1.fffffep63, 1.8e19};
            for (int s = 0; s < 4 && 300 + 37 * s < n; ++s) buffer_set(g, 300 + 37 * s, extreme[s]);
        }
    }
}

void twin_create(twin* t, const bnb_optimizer_config* config, const bnb_optimizer_config* gpu_config,
                 const int64_t* sizes, int count, bnb_dtype dtype, double param_scale, uint64_t seed) {
    memset(t, 0, sizeof *t);
    t->count = count;
    rng_seed(&t->rng, seed);
    test_buffer initial[SIDE_MAX];
    for (int k = 0; k < count; ++k) {
        initial[k] = buffer_alloc(sizes[k], dtype);
        fill_normal(&t->rng, &initial[k], param_scale);
        t->grad[k] = buffer_alloc(sizes[k], dtype);
    }
    side_create(&t->cpu, config, initial, count, 0);
    side_create(&t->gpu, gpu_config != NULL ? gpu_config : config, initial, count, 1);
    for (int k = 0; k < count; ++k) buffer_free(&initial[k]);
}

void twin_gradients(twin* t, grad_pattern pattern, int step) {
    fill_gradients(&t->rng, t->grad, t->count, pattern, step);
    side_set_gradients(&t->cpu, t->grad);
    side_set_gradients(&t->gpu, t->grad);
}

void twin_step(twin* t) {
    side_step(&t->cpu);
    side_step(&t->gpu);
}

void twin_assert_equal(const twin* t, const char* label) { sides_assert_equal(&t->cpu, &t->gpu, label); }

void twin_destroy(twin* t) {
    side_destroy(&t->cpu);
    side_destroy(&t->gpu);
    for (int k = 0; k < t->count; ++k) buffer_free(&t->grad[k]);
}
