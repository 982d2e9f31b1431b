#include "golden.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "optim_helpers.h"

static const int64_t kNumel[kGoldenParams] = {5000, 1000, 600};
static const bnb_dtype kDtype[kGoldenParams] = {BNB_DTYPE_BF16, BNB_DTYPE_F32, BNB_DTYPE_F16};

const golden_case* golden_cases(int* count) {
    static const golden_case cases[] = {
        {"adam_blockwise", 0, 1},      {"adam_tensorwise", 0, 0},      {"adamw_blockwise", 1, 1},
        {"adamw_tensorwise", 1, 0},    {"sgd_blockwise", 2, 1},        {"sgd_tensorwise", 2, 0},
        {"lars_blockwise", 3, 1},      {"lars_tensorwise", 3, 0},      {"rmsprop_blockwise", 4, 1},
        {"rmsprop_tensorwise", 4, 0},  {"adagrad_blockwise", 5, 1},    {"adagrad_tensorwise", 5, 0},
        {"lion_blockwise", 6, 1},      {"lion_tensorwise", 6, 0},      {"lamb_blockwise", 7, 1},
        {"lamb_tensorwise", 7, 0},     {"ademamix_blockwise", 9, 1},   {"ademamix_tensorwise", 9, 0},
    };
    *count = (int)(sizeof cases / sizeof cases[0]);
    return cases;
}

void golden_setup(const golden_case* gc, golden_run* run) {
    int count = 0;
    const family_case* fc = &family_cases(&count)[gc->family];
    spec_config base = family_spec_config(&fc->config);
    base.weight_decay = 1e-2;
    base.percentile_clipping = 50;
    memset(run, 0, sizeof *run);
    rng_seed(&run->rng, 20261122);
    /* family_optimizer() uses min_8bit_size 0; the goldens keep the default 4096 so p1 is fp32 by size. */
    bnb_optimizer* probe = family_optimizer(&base, 8, gc->block_wise);
    bnb_optimizer_config cfg;
    cfg.struct_size = sizeof cfg;
    assert_int_equal(bnb_optimizer_get_config(probe, &cfg), BNB_OK);
    bnb_optimizer_destroy(probe);
    cfg.min_8bit_size = 4096;
    assert_int_equal(bnb_optimizer_create(&cfg, &run->opt), BNB_OK);
    int64_t group = 0;
    assert_int_equal(bnb_optimizer_add_group(run->opt, &group), BNB_OK);
    assert_int_equal(bnb_optimizer_set_hparam(run->opt, 1, BNB_HPARAM_LR, base.lr * 0.5), BNB_OK);
    for (int k = 0; k < kGoldenParams; ++k) {
        run->params[k] = buffer_alloc(kNumel[k], kDtype[k]);
        run->grads[k] = buffer_alloc(kNumel[k], kDtype[k]);
        run->spec_params[k] = buffer_alloc(kNumel[k], kDtype[k]);
        fill_normal(&run->rng, &run->params[k], 0.1);
        buffer_copy(&run->spec_params[k], &run->params[k]);
        bnb_tensor p = buffer_tensor(&run->params[k]), g = buffer_tensor(&run->grads[k]);
        assert_int_equal(bnb_optimizer_add_param(run->opt, k == 1 ? 1 : 0, &p, k == 2 ? NULL : &g, NULL), BNB_OK);
        run->spec[k] = base;
    }
    assert_int_equal(bnb_optimizer_set_param_override(run->opt, 0, BNB_HPARAM_LR, base.lr * 2.0), BNB_OK);
    run->spec[0].lr = base.lr * 2.0;
    run->spec[1].lr = base.lr * 0.5;
    spec_param_init(&run->spec_states[0], &run->spec[0], kNumel[0], gc->block_wise ? BNB_STATE_MODE_8BIT_BLOCKWISE
                                                                                   : BNB_STATE_MODE_8BIT_TENSORWISE);
    spec_param_init(&run->spec_states[1], &run->spec[1], kNumel[1], BNB_STATE_MODE_32BIT);
}

void golden_step(golden_run* run) {
    for (int k = 0; k < 2; ++k) {
        fill_normal(&run->rng, &run->grads[k], 0.01);
        spec_step(&run->spec[k], &run->spec_states[k], &run->spec_params[k], &run->grads[k]);
    }
    assert_int_equal(bnb_step(run->opt), BNB_OK);
}

void golden_replay_spec(golden_run* run) {
    for (int step = 0; step < kGoldenSteps; ++step) {
        for (int k = 0; k < 2; ++k) {
            fill_normal(&run->rng, &run->grads[k], 0.01);
            spec_step(&run->spec[k], &run->spec_states[k], &run->spec_params[k], &run->grads[k]);
        }
    }
    for (int k = 0; k < kGoldenParams; ++k) buffer_copy(&run->params[k], &run->spec_params[k]);
}

void golden_teardown(golden_run* run) {
    bnb_optimizer_destroy(run->opt);
    for (int k = 0; k < kGoldenParams; ++k) {
        buffer_free(&run->params[k]);
        buffer_free(&run->grads[k]);
        buffer_free(&run->spec_params[k]);
    }
    spec_param_free(&run->spec_states[0]);
    spec_param_free(&run->spec_states[1]);
}
