/* Note [floating-point environment]: a caller thread with flush-to-zero / denormals-are-zero or another
 * rounding mode gets the contract's results anyway, and its own mode back after the call. Gradients and
 * parameters here are tiny so that subnormals appear in the update. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/optim_helpers.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>

static void run(int bits, int mode_bits, test_buffer* param, test_buffer* grad, float** m_out) {
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAMW, bits, 1, 1e-3, 1e-2, 0);
    add_param(opt, param, grad);
    const unsigned int saved = _mm_getcsr();
    _mm_setcsr((saved & ~(0x8040u | 0x6000u)) | (unsigned int)mode_bits);
    const unsigned int caller_mode = _mm_getcsr();
    for (int step = 0; step < 3; ++step) assert_int_equal(bnb_step(opt), BNB_OK);
    /* The caller's mode (control bits 6-15) is restored exactly; the sticky exception flags (bits 0-5)
     * may be raised, as by any floating-point code. */
    assert_int_equal(_mm_getcsr() & ~0x3Fu, caller_mode & ~0x3Fu);
    _mm_setcsr(saved);
    *m_out = read_state(opt, 0, 1, param->numel);
    bnb_optimizer_destroy(opt);
}

/* 32-bit states with subnormal gradients, and 8-bit states whose dequantized values are subnormal
 * (map entries ~5e-7 times absmax ~1e-34). */
static void check_mode_independence(int bits, double grad_scale) {
    const int64_t n = 4096;
    const int modes[] = {0, 0x8040 /* FTZ | DAZ */, 0x6000 /* round toward zero */, 0x2000 /* round down */};
    test_buffer params[4], grads[4];
    float* m[4];
    for (int k = 0; k < 4; ++k) {
        test_rng rng;
        rng_seed(&rng, 99);
        params[k] = buffer_alloc(n, BNB_DTYPE_F32);
        grads[k] = buffer_alloc(n, BNB_DTYPE_F32);
        fill_normal(&rng, &params[k], 1e-36);
        fill_normal(&rng, &grads[k], grad_scale);
        /* Every 16th gradient a million times smaller: codes near zero, whose values are subnormal. */
        for (int64_t i = 0; i < n; i += 16) buffer_set(&grads[k], i, buffer_get(&grads[k], i) * 1e-6);
        run(bits, modes[k], &params[k], &grads[k], &m[k]);
    }
    for (int k = 1; k < 4; ++k) {
        assert_true(buffer_equal_bits(&params[0], &params[k]));
        assert_memory_equal(m[0], m[k], sizeof(float) * (size_t)n);
    }
    int subnormal_states = 0;
    for (int64_t i = 0; i < n; ++i) subnormal_states += m[0][i] != 0.0f && fabsf(m[0][i]) < 1.17549435e-38f;
    if (subnormal_states == 0) fail_msg("%d-bit: no subnormal state values", bits); /* inputs must reach them */
    for (int k = 0; k < 4; ++k) {
        buffer_free(&params[k]);
        buffer_free(&grads[k]);
        free(m[k]);
    }
}

static void ftz_daz_and_rounding_mode_do_not_change_results(void** state) {
    (void)state;
    check_mode_independence(32, 1e-38);
    check_mode_independence(8, 1e-33);
}
#else
static void ftz_daz_and_rounding_mode_do_not_change_results(void** state) {
    (void)state;
    skip();
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ftz_daz_and_rounding_mode_do_not_change_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
