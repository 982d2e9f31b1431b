#include "family.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static family_case make_case(const char* name, int32_t algorithm, double lr) {
    family_case c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.config.algorithm = algorithm;
    c.config.lr = lr;
    return c;
}

/* ALGORITHMS.md §13.1 A1/A3 setups, with each algorithm's defaults (§10.1) elsewhere. */
const family_case* family_cases(int* count) {
    static family_case cases[10];
    static int ready = 0;
    if (!ready) {
        family_case* c = cases;
        *c = make_case("adam", BNB_ALGO_ADAM, 1e-3);
        c->config.beta1 = 0.9, c->config.beta2 = 0.999, c->config.eps = 1e-8, ++c;
        *c = make_case("adamw", BNB_ALGO_ADAMW, 1e-3);
        c->config.beta1 = 0.9, c->config.beta2 = 0.999, c->config.eps = 1e-8, ++c;
        *c = make_case("sgd", BNB_ALGO_SGD, 0.01);
        c->config.momentum = 0.9, ++c;
        *c = make_case("lars", BNB_ALGO_LARS, 0.01);
        c->config.momentum = 0.9, c->config.max_unorm = 0.02, ++c;
        *c = make_case("rmsprop", BNB_ALGO_RMSPROP, 0.01);
        c->config.alpha = 0.9, c->config.eps = 1e-8, ++c;
        *c = make_case("adagrad", BNB_ALGO_ADAGRAD, 0.01);
        c->config.eps = 1e-10, ++c;
        *c = make_case("lion", BNB_ALGO_LION, 1e-4);
        c->config.beta1 = 0.9, c->config.beta2 = 0.99, ++c;
        *c = make_case("lamb", BNB_ALGO_LAMB, 1e-3);
        c->config.beta1 = 0.9, c->config.beta2 = 0.999, c->config.eps = 1e-8, c->config.max_unorm = 1.0, ++c;
        *c = make_case("ademamix", BNB_ALGO_ADEMAMIX, 1e-3);
        c->config.beta1 = 0.9, c->config.beta2 = 0.999, c->config.beta3 = 0.9999, c->config.alpha = 5.0;
        c->config.eps = 1e-8, ++c;
        *c = make_case("ademamix_sched", BNB_ALGO_ADEMAMIX, 1e-3);
        c->config.beta1 = 0.9, c->config.beta2 = 0.999, c->config.beta3 = 0.9999, c->config.alpha = 5.0;
        c->config.eps = 1e-8, c->config.t_alpha = 20, c->config.t_beta3 = 20, ++c;
        ready = 1;
    }
    *count = 10;
    return cases;
}

static void expect_ok(bnb_status status, const char* what) {
    if (status != BNB_OK) fail_msg("%s failed: %s", what, bnb_last_error_message());
}

bnb_state_mode family_mode(int bits, int block_wise) {
    if (bits == 32) return BNB_STATE_MODE_32BIT;
    return block_wise ? BNB_STATE_MODE_8BIT_BLOCKWISE : BNB_STATE_MODE_8BIT_TENSORWISE;
}

bnb_optimizer* family_optimizer(const spec_config* r, int bits, int block_wise) {
    return family_optimizer_skipping(r, bits, block_wise, 0);
}

bnb_optimizer* family_optimizer_skipping(const spec_config* r, int bits, int block_wise, int skip_step_on_nonfinite) {
    bnb_optimizer_config cfg;
    expect_ok(bnb_optimizer_config_init(&cfg, r->algorithm), "config_init");
    cfg.skip_step_on_nonfinite = skip_step_on_nonfinite;
    cfg.optim_bits = bits;
    cfg.block_wise = block_wise;
    cfg.min_8bit_size = 0;
    cfg.percentile_clipping = r->percentile_clipping;
    cfg.skip_zeros = r->skip_zeros;
    cfg.lr = r->lr;
    cfg.weight_decay = r->weight_decay;
    switch (r->algorithm) {
        case BNB_ALGO_SGD:
            cfg.momentum = r->momentum;
            cfg.dampening = r->dampening;
            cfg.nesterov = r->nesterov;
            break;
        case BNB_ALGO_LARS:
            cfg.momentum = r->momentum;
            cfg.max_unorm = r->max_unorm;
            break;
        case BNB_ALGO_RMSPROP:
            cfg.alpha = r->alpha;
            cfg.eps = r->eps;
            break;
        case BNB_ALGO_ADAGRAD: cfg.eps = r->eps; break;
        case BNB_ALGO_LION:
            cfg.beta1 = r->beta1;
            cfg.beta2 = r->beta2;
            break;
        case BNB_ALGO_ADEMAMIX:
            cfg.beta3 = r->beta3;
            cfg.alpha = r->alpha;
            cfg.t_alpha = r->t_alpha;
            cfg.t_beta3 = r->t_beta3;
            cfg.beta1 = r->beta1;
            cfg.beta2 = r->beta2;
            cfg.eps = r->eps;
            break;
        default:
            cfg.beta1 = r->beta1;
            cfg.beta2 = r->beta2;
            cfg.eps = r->eps;
            if (r->algorithm == BNB_ALGO_LAMB) cfg.max_unorm = r->max_unorm;
            break;
    }
    bnb_optimizer* opt = NULL;
    expect_ok(bnb_optimizer_create(&cfg, &opt), "create");
    return opt;
}

int family_read_slots(const bnb_optimizer* opt, int64_t index, int64_t n, float** slots) {
    bnb_param_info info;
    info.struct_size = sizeof info;
    expect_ok(bnb_optimizer_param_info(opt, index, &info), "param_info");
    int count = 0;
    for (int state = 1; state <= info.num_states; ++state) {
        bnb_optimizer_config cfg;
        cfg.struct_size = sizeof cfg;
        expect_ok(bnb_optimizer_get_config(opt, &cfg), "get_config");
        const int rows = cfg.algorithm == BNB_ALGO_ADEMAMIX && state == 1 ? 2 : 1;
        float* values = malloc(sizeof(float) * (size_t)(rows * n > 0 ? rows * n : 1));
        expect_ok(bnb_optimizer_copy_state(opt, index, state, values, rows * n), "copy_state");
        for (int r = 0; r < rows; ++r) {
            slots[count] = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
            memcpy(slots[count], values + r * n, sizeof(float) * (size_t)n);
            ++count;
        }
        free(values);
    }
    return count;
}

void family_free_slots(float** slots, int count) {
    for (int i = 0; i < count; ++i) free(slots[i]);
}

spec_config family_spec_config(const ref64_config* r) {
    spec_config c;
    memset(&c, 0, sizeof c);
    c.algorithm = r->algorithm;
    c.lr = r->lr;
    c.beta1 = r->beta1;
    c.beta2 = r->beta2;
    c.beta3 = r->beta3;
    c.eps = r->eps;
    c.weight_decay = r->weight_decay;
    c.alpha = r->alpha;
    c.momentum = r->momentum;
    c.dampening = r->dampening;
    c.t_alpha = r->t_alpha;
    c.t_beta3 = r->t_beta3;
    c.max_unorm = r->max_unorm;
    c.nesterov = r->nesterov;
    c.percentile_clipping = 100;
    c.skip_zeros = 0;
    return c;
}
