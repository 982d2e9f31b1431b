/* Checks the float64 reference (support/reference64.c) against values derived by hand: closed forms
 * (equal gradients, momentum sums, sign steps, exact trust ratios) and literals computed once with
 * 60-digit arithmetic (mpmath) from the textbook formulas, using the exact values of the doubles passed
 * here. Every comparison is relative, 1e-12, unless it is bitwise. Nothing here uses the library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/reference64.h"

#define REL_TOL 1e-12

static void near_impl(double actual, double expected, const char* what, int index, const char* file, int line) {
    if (actual == expected) return;
    if (fabs(actual - expected) <= REL_TOL * fabs(expected)) return;
    print_error("%s[%d] = %.17g, expected %.17g (rel. error %.3g)\n", what, index, actual, expected,
                expected != 0.0 ? fabs(actual - expected) / fabs(expected) : INFINITY);
    _fail(file, line);
}
#define ASSERT_NEAR(a, e) near_impl((a), (e), #a, 0, __FILE__, __LINE__)
#define ASSERT_ALL_NEAR(a, e, n)                                                   \
    do {                                                                           \
        for (int k_ = 0; k_ < (int)(n); ++k_) near_impl((a)[k_], (e)[k_], #a, k_, __FILE__, __LINE__); \
    } while (0)

static void assert_same_bits(double a, double b) {
    assert_memory_equal(&a, &b, sizeof a);
}

static ref64_config config(int32_t algorithm) {
    ref64_config c;
    memset(&c, 0, sizeof c);
    c.algorithm = algorithm;
    return c;
}

static double sgn(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

/* ---------------------------------------------------------------------------------------------------- */

static void slots_and_init(void** state) {
    (void)state;
    struct { int32_t alg; double momentum; int slots; } cases[] = {
        {BNB_ALGO_ADAM, 0, 2},    {BNB_ALGO_ADAMW, 0, 2},   {BNB_ALGO_SGD, 0, 0},
        {BNB_ALGO_SGD, 0.9, 1},   {BNB_ALGO_LION, 0, 1},    {BNB_ALGO_LAMB, 0, 2},
        {BNB_ALGO_LARS, 0.9, 1},  {BNB_ALGO_RMSPROP, 0, 1}, {BNB_ALGO_ADAGRAD, 0, 1},
        {BNB_ALGO_ADEMAMIX, 0, 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
        ref64_config c = config(cases[k].alg);
        c.momentum = cases[k].momentum;
        assert_int_equal(ref64_num_slots(&c), cases[k].slots);
        ref64_param st;
        ref64_param_init(&st, &c, 5);
        assert_int_equal(st.n, 5);
        assert_int_equal(st.t, 0);
        assert_int_equal(st.num_slots, cases[k].slots);
        assert_true(st.last_trust_ratio == 1.0);
        assert_true(st.last_update_sq_norm == 0.0);
        for (int s = 0; s < 3; ++s) {
            if (s < cases[k].slots) {
                assert_non_null(st.slot[s]);
                for (int i = 0; i < 5; ++i) assert_same_bits(st.slot[s][i], 0.0);
            } else {
                assert_null(st.slot[s]);
            }
        }
        ref64_param_free(&st);
    }
}

/* Adam with k equal gradients: m = (1-b1^k) g and v = (1-b2^k) g^2, so m_hat = g and v_hat = g^2 and
 * every step moves the parameter by lr * g / (|g| + eps). The gradient scale multiplies g first. */
static void adam_equal_gradients(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_ADAM);
    c.lr = 0.01; c.beta1 = 0.9; c.beta2 = 0.999; c.eps = 1e-8;
    const double p0[4] = {1.0, -2.0, 0.5, 3.0};
    const double g[4] = {0.5, -0.25, 2.0, 1e-3};
    const double gs = 0.5;
    double p[4];
    memcpy(p, p0, sizeof p);
    ref64_param st;
    ref64_param_init(&st, &c, 4);
    for (int k = 1; k <= 3; ++k) {
        ref64_step(&c, &st, p, g, gs, 0);
        assert_int_equal(st.t, k);
        for (int i = 0; i < 4; ++i) {
            const double gg = gs * g[i];
            near_impl(p[i], p0[i] - k * c.lr * gg / (fabs(gg) + c.eps), "p", i, __FILE__, __LINE__);
            near_impl(st.slot[0][i], (1.0 - pow(0.9, k)) * gg, "m", i, __FILE__, __LINE__);
            near_impl(st.slot[1][i], (1.0 - pow(0.999, k)) * gg * gg, "v", i, __FILE__, __LINE__);
        }
    }
    ref64_param_free(&st);
}

/* Adam, coupled L2 decay, two different gradients (60-digit literals). */
static void adam_coupled_decay_two_steps(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_ADAM);
    c.lr = 0.1; c.beta1 = 0.9; c.beta2 = 0.999; c.eps = 1e-8; c.weight_decay = 0.1;
    double p[3] = {1.0, -0.5, 2.0};
    const double g1[3] = {0.3, 0.2, -1.0}, g2[3] = {-0.1, 0.4, 0.5};
    /* first step by hand: G = g + wd p = {0.4, 0.15, -0.8}, p1 = p - lr G / (|G| + eps) */
    const double p1[3] = {0.90000000249999993195, -0.59999999333333378333, 2.0999999987500000212};
    const double p2[3] = {0.83487582076322271519, -0.69512286034909002842, 2.1006958914927062776};
    const double m2[3] = {0.035000000024999991881, 0.047500000066666654589, -0.0010000000124999991776};
    const double v2[3] = {0.00015993999999500013769, 0.00013807750045333344113, 0.0011434599998225010169};
    ref64_param st;
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, p, g1, 1.0, 0);
    ASSERT_ALL_NEAR(p, p1, 3);
    ref64_step(&c, &st, p, g2, 1.0, 0);
    ASSERT_ALL_NEAR(p, p2, 3);
    ASSERT_ALL_NEAR(st.slot[0], m2, 3);
    ASSERT_ALL_NEAR(st.slot[1], v2, 3);
    ref64_param_free(&st);
}

/* AdamW with a constant gradient: p_k = p_{k-1} (1 - lr wd) - lr g / (|g| + eps); the states never see
 * the decay. */
static void adamw_decoupled_decay(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_ADAMW);
    c.lr = 0.01; c.beta1 = 0.9; c.beta2 = 0.999; c.eps = 1e-8; c.weight_decay = 0.5;
    const double g[3] = {0.75, -1.5, 0.01};
    double p[3] = {2.0, 1.0, -4.0}, e[3] = {2.0, 1.0, -4.0};
    ref64_param st;
    ref64_param_init(&st, &c, 3);
    for (int k = 1; k <= 3; ++k) {
        ref64_step(&c, &st, p, g, 1.0, 0);
        for (int i = 0; i < 3; ++i) e[i] = e[i] * (1.0 - 0.005) - 0.01 * g[i] / (fabs(g[i]) + 1e-8);
        ASSERT_ALL_NEAR(p, e, 3);
        for (int i = 0; i < 3; ++i) near_impl(st.slot[0][i], (1.0 - pow(0.9, k)) * g[i], "m", i, __FILE__, __LINE__);
    }
    ref64_param_free(&st);
}

/* Plain SGD (momentum 0, no state), coupled decay and a gradient scale. */
static void sgd_plain(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_SGD);
    c.lr = 0.1; c.weight_decay = 0.1;
    double p[3] = {1.0, -2.0, 0.5};
    const double g1[3] = {1.0, 0.5, -3.0}, g2[3] = {-2.0, 0.25, 1.0};
    ref64_param st;
    ref64_param_init(&st, &c, 3);
    assert_int_equal(st.num_slots, 0);
    ref64_step(&c, &st, p, g1, 0.5, 0);
    const double p1[3] = {1.0 - 0.1 * (0.5 + 0.1), -2.0 - 0.1 * (0.25 - 0.2), 0.5 - 0.1 * (-1.5 + 0.05)};
    ASSERT_ALL_NEAR(p, p1, 3);
    ref64_step(&c, &st, p, g2, 0.5, 0);
    double e[3];
    for (int i = 0; i < 3; ++i) e[i] = p1[i] - 0.1 * (0.5 * g2[i] + 0.1 * p1[i]);
    ASSERT_ALL_NEAR(p, e, 3);
    ref64_param_free(&st);
}

/* SGD momentum 0.9: buf1 = g1, buf2 = .9 g1 + g2, buf3 = .81 g1 + .9 g2 + g3, and the parameter moves by
 * lr (buf1 + buf2 + buf3) = lr (2.71 g1 + 1.9 g2 + g3). With dampening 0.5 (not applied to the first
 * buffer): buf2 = .9 g1 + .5 g2, buf3 = .81 g1 + .45 g2 + .5 g3, total 2.71 g1 + .95 g2 + .5 g3. */
static void sgd_momentum_and_dampening(void** state) {
    (void)state;
    const double p0[3] = {1.0, -1.0, 2.0};
    const double g1[3] = {1.0, -2.0, 0.5}, g2[3] = {0.5, 1.0, -1.0}, g3[3] = {-0.25, 0.5, 2.0};
    for (int damp = 0; damp < 2; ++damp) {
        ref64_config c = config(BNB_ALGO_SGD);
        c.lr = 0.1; c.momentum = 0.9; c.dampening = damp ? 0.5 : 0.0;
        double p[3];
        memcpy(p, p0, sizeof p);
        ref64_param st;
        ref64_param_init(&st, &c, 3);
        assert_int_equal(st.num_slots, 1);
        ref64_step(&c, &st, p, g1, 1.0, 0);
        ASSERT_ALL_NEAR(st.slot[0], g1, 3);
        ref64_step(&c, &st, p, g2, 1.0, 0);
        ref64_step(&c, &st, p, g3, 1.0, 0);
        double buf[3], e[3];
        for (int i = 0; i < 3; ++i) {
            if (damp) {
                buf[i] = 0.81 * g1[i] + 0.45 * g2[i] + 0.5 * g3[i];
                e[i] = p0[i] - 0.1 * (2.71 * g1[i] + 0.95 * g2[i] + 0.5 * g3[i]);
            } else {
                buf[i] = 0.81 * g1[i] + 0.9 * g2[i] + g3[i];
                e[i] = p0[i] - 0.1 * (2.71 * g1[i] + 1.9 * g2[i] + g3[i]);
            }
        }
        ASSERT_ALL_NEAR(st.slot[0], buf, 3);
        ASSERT_ALL_NEAR(p, e, 3);
        ref64_param_free(&st);
    }
}

/* Nesterov: d1 = g1 + .9 g1 = 1.9 g1; buf2 = .9 g1 + g2, d2 = g2 + .9 buf2 = .81 g1 + 1.9 g2. */
static void sgd_nesterov(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_SGD);
    c.lr = 0.1; c.momentum = 0.9; c.nesterov = 1; c.weight_decay = 0.0;
    const double p0[3] = {1.0, -1.0, 2.0};
    const double g1[3] = {1.0, -2.0, 0.5}, g2[3] = {0.5, 1.0, -1.0};
    double p[3];
    memcpy(p, p0, sizeof p);
    ref64_param st;
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, p, g1, 1.0, 0);
    double e[3];
    for (int i = 0; i < 3; ++i) e[i] = p0[i] - 0.1 * 1.9 * g1[i];
    ASSERT_ALL_NEAR(p, e, 3);
    ref64_step(&c, &st, p, g2, 1.0, 0);
    for (int i = 0; i < 3; ++i) e[i] = p0[i] - 0.1 * (2.71 * g1[i] + 1.9 * g2[i]);
    ASSERT_ALL_NEAR(p, e, 3);
    ref64_param_free(&st);
}

/* §5.3: an element kept at t == 1 (NaN, or zero with skip_zeros) keeps buf = 0 and is blended at its next
 * applied step: with momentum .9 and dampening .5, buf2 = .9*0 + .5*3 = 1.5, not 3. */
static void sgd_element_skipped_at_first_step(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_SGD);
    c.lr = 0.1; c.momentum = 0.9; c.dampening = 0.5;
    const double p0[3] = {1.0, 2.0, 3.0};
    const double g1[3] = {NAN, 1.0, 0.0}, g2[3] = {3.0, 1.0, 2.0};
    double p[3];
    memcpy(p, p0, sizeof p);
    ref64_param st;
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, p, g1, 1.0, 1);
    assert_same_bits(p[0], 1.0);
    assert_same_bits(p[2], 3.0);
    assert_same_bits(st.slot[0][0], 0.0);
    assert_same_bits(st.slot[0][2], 0.0);
    ASSERT_NEAR(st.slot[0][1], 1.0);
    ref64_step(&c, &st, p, g2, 1.0, 1);
    const double buf[3] = {1.5, 1.4, 1.0};
    const double e[3] = {1.0 - 0.15, 2.0 - 0.1 * (1.0 + 1.4), 3.0 - 0.1};
    ASSERT_ALL_NEAR(st.slot[0], buf, 3);
    ASSERT_ALL_NEAR(p, e, 3);
    ref64_param_free(&st);
}

/* RMSprop: decay and gradient scale in the numerator too: G = gs g + wd p, v = a v + (1-a) G^2,
 * p -= lr G / (sqrt(v) + eps). First step by hand: v = .01 G^2, p1 = p0 - lr G / (.1 |G| + eps). */
static void rmsprop_two_steps(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_RMSPROP);
    c.lr = 0.01; c.alpha = 0.99; c.eps = 1e-8; c.weight_decay = 0.2;
    const double p0[3] = {1.5, -0.25, 0.75};
    const double g1[3] = {2.0, -1.0, 0.1}, g2[3] = {-0.5, -3.0, 0.2};
    double p[3];
    memcpy(p, p0, sizeof p);
    ref64_param st;
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, p, g1, 0.5, 0);
    double e1[3];
    const double G[3] = {1.0 + 0.3, -0.5 - 0.05, 0.05 + 0.15}; /* .5 g1 + .2 p0 */
    for (int i = 0; i < 3; ++i) e1[i] = p0[i] - 0.01 * G[i] / (0.1 * fabs(G[i]) + 1e-8);
    ASSERT_ALL_NEAR(p, e1, 3);
    const double p1[3] = {1.4000000076923071429, -0.15000001818181491836, 0.65000004999997504234};
    ASSERT_ALL_NEAR(p, p1, 3);
    ref64_step(&c, &st, p, g2, 0.5, 0);
    const double p2[3] = {1.3976813132738742943, -0.055841720493920086568, 0.57437653929675722173};
    const double v2[3] = {0.016740000000923092037, 0.026403750111272730938, 0.00092500004599997895966};
    ASSERT_ALL_NEAR(p, p2, 3);
    ASSERT_ALL_NEAR(st.slot[0], v2, 3);
    ref64_param_free(&st);
}

/* Adagrad after k equal gradients: v = k g^2 and p_k = p0 - lr g sum_{j<=k} 1 / (sqrt(j) |g| + eps).
 * With coupled decay, the first step is p0 - lr G / (|G| + eps), G = g + wd p0. */
static void adagrad_equal_gradients(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_ADAGRAD);
    c.lr = 0.01; c.eps = 1e-10;
    const double p0[3] = {1.0, -1.0, 0.25};
    const double g[3] = {0.5, -2.0, 1e-3};
    double p[3];
    memcpy(p, p0, sizeof p);
    ref64_param st;
    ref64_param_init(&st, &c, 3);
    for (int k = 1; k <= 4; ++k) {
        ref64_step(&c, &st, p, g, 1.0, 0);
        for (int i = 0; i < 3; ++i) {
            double sum = 0.0;
            for (int j = 1; j <= k; ++j) sum += 1.0 / (sqrt((double)j) * fabs(g[i]) + 1e-10);
            near_impl(p[i], p0[i] - 0.01 * g[i] * sum, "p", i, __FILE__, __LINE__);
            near_impl(st.slot[0][i], k * g[i] * g[i], "v", i, __FILE__, __LINE__);
        }
    }
    ref64_param_free(&st);

    c.weight_decay = 0.4;
    memcpy(p, p0, sizeof p);
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, p, g, 1.0, 0);
    for (int i = 0; i < 3; ++i) {
        const double G = g[i] + 0.4 * p0[i];
        near_impl(p[i], p0[i] - 0.01 * G / (fabs(G) + 1e-10), "p", i, __FILE__, __LINE__);
        near_impl(st.slot[0][i], G * G, "v", i, __FILE__, __LINE__);
    }
    ref64_param_free(&st);
}

/* Lion: p = p (1 - lr wd) - lr sgn(b1 m + (1-b1) g); m = b2 m + (1-b2) g.
 * Step 1 (m = 0): sign of g, and sgn(0) = 0 for the zero gradient (decay still applies). m1 = .01 g1.
 * Step 2: c = .9 m1 + .1 g2 = {.009-.005, -.018+.001, 0, .0045-.1} -> signs {+, -, 0, -}: element 0
 * steps up although its gradient is negative. */
static void lion_sign_steps(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_LION);
    c.lr = 0.1; c.beta1 = 0.9; c.beta2 = 0.99; c.weight_decay = 0.5;
    const double p0[4] = {1.0, -1.0, 0.5, 2.0};
    const double g1[4] = {1.0, -2.0, 0.0, 0.5}, g2[4] = {-0.05, 0.01, 0.0, -1.0};
    const double s1[4] = {1, -1, 0, 1}, s2[4] = {1, -1, 0, -1};
    double p[4], e[4], m[4];
    memcpy(p, p0, sizeof p);
    ref64_param st;
    ref64_param_init(&st, &c, 4);
    ref64_step(&c, &st, p, g1, 1.0, 0);
    for (int i = 0; i < 4; ++i) {
        e[i] = p0[i] * 0.95 - 0.1 * s1[i];
        m[i] = 0.01 * g1[i];
    }
    ASSERT_ALL_NEAR(p, e, 4);
    ASSERT_ALL_NEAR(st.slot[0], m, 4);
    ref64_step(&c, &st, p, g2, 1.0, 0);
    for (int i = 0; i < 4; ++i) {
        e[i] = e[i] * 0.95 - 0.1 * s2[i];
        m[i] = 0.99 * m[i] + 0.01 * g2[i];
    }
    ASSERT_ALL_NEAR(p, e, 4);
    ASSERT_ALL_NEAR(st.slot[0], m, 4);
    ref64_param_free(&st);

    /* without decay, a zero interpolation leaves the parameter bitwise unchanged */
    c.weight_decay = 0.0;
    double q[2] = {0.3, -0.0};
    const double gz[2] = {0.0, -0.0};
    ref64_param_init(&st, &c, 2);
    ref64_step(&c, &st, q, gz, 1.0, 0);
    assert_same_bits(q[0], 0.3);
    assert_same_bits(q[1], -0.0);
    ref64_param_free(&st);
}

/* LAMB with eps = 0 and a constant gradient: m_hat = g, v_hat = g^2, u = sgn(g) exactly (in real
 * arithmetic), so ||u|| = sqrt(#applied). p0 = {2, 1, -2, 4}: ||p0|| = 5. With max_unorm .1:
 * scale = .1 * 5 / 2 = .25 (the norm is taken before the decay: with it, .2375).
 * p1 = .95 p0 - lr .25 sgn(g). Step 2: scale = min(1, .1 ||p1|| / 2). */
static void lamb_trust_ratio(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_LAMB);
    c.lr = 0.1; c.beta1 = 0.9; c.beta2 = 0.999; c.eps = 0.0; c.weight_decay = 0.5; c.max_unorm = 0.1;
    const double p0[4] = {2.0, 1.0, -2.0, 4.0};
    const double g[4] = {2.0, -0.5, 1.0, 3.0};
    double p[4], e[4];
    memcpy(p, p0, sizeof p);
    ref64_param st;
    ref64_param_init(&st, &c, 4);
    ref64_step(&c, &st, p, g, 1.0, 0);
    ASSERT_NEAR(st.last_trust_ratio, 0.25);
    ASSERT_NEAR(st.last_update_sq_norm, 4.0);
    for (int i = 0; i < 4; ++i) e[i] = 0.95 * p0[i] - 0.1 * 0.25 * sgn(g[i]);
    ASSERT_ALL_NEAR(p, e, 4);
    for (int i = 0; i < 4; ++i) {
        near_impl(st.slot[0][i], (1.0 - 0.9) * g[i], "m", i, __FILE__, __LINE__);
        near_impl(st.slot[1][i], (1.0 - 0.999) * g[i] * g[i], "v", i, __FILE__, __LINE__);
    }
    const double pn1 = sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2] + e[3] * e[3]);
    const double scale2 = fmin(1.0, 0.1 * pn1 / 2.0);
    ref64_step(&c, &st, p, g, 1.0, 0);
    ASSERT_NEAR(st.last_trust_ratio, scale2);
    for (int i = 0; i < 4; ++i) e[i] = 0.95 * e[i] - 0.1 * scale2 * sgn(g[i]);
    ASSERT_ALL_NEAR(p, e, 4);
    ref64_param_free(&st);

    /* cap inactive (ratio 25 > 1) and cap off: scale 1 */
    for (int k = 0; k < 2; ++k) {
        c.max_unorm = k == 0 ? 10.0 : 0.0;
        memcpy(p, p0, sizeof p);
        ref64_param_init(&st, &c, 4);
        ref64_step(&c, &st, p, g, 1.0, 0);
        assert_true(st.last_trust_ratio == 1.0);
        ASSERT_NEAR(st.last_update_sq_norm, 4.0);
        for (int i = 0; i < 4; ++i) e[i] = 0.95 * p0[i] - 0.1 * sgn(g[i]);
        ASSERT_ALL_NEAR(p, e, 4);
        ref64_param_free(&st);
    }

    /* eps = .5 outside the square root: u = g / (|g| + .5) = {.8, -.5, 2/3, 6/7},
     * scale = .1 * 5 / ||u|| = .5 / sqrt(.64 + .25 + 4/9 + 36/49) */
    c.max_unorm = 0.1;
    c.eps = 0.5;
    memcpy(p, p0, sizeof p);
    ref64_param_init(&st, &c, 4);
    ref64_step(&c, &st, p, g, 1.0, 0);
    const double ue[4] = {0.8, -0.5, 2.0 / 3.0, 6.0 / 7.0};
    const double su = 0.64 + 0.25 + 4.0 / 9.0 + 36.0 / 49.0;
    ASSERT_NEAR(st.last_update_sq_norm, su);
    ASSERT_NEAR(st.last_trust_ratio, 0.5 / sqrt(su));
    for (int i = 0; i < 4; ++i) e[i] = 0.95 * p0[i] - 0.1 * (0.5 / sqrt(su)) * ue[i];
    ASSERT_ALL_NEAR(p, e, 4);
    ref64_param_free(&st);
    c.eps = 0.0;

    /* a kept element: not decayed, not part of ||u|| (= sqrt 3), but part of ||p|| (= 5) */
    const double gk[4] = {2.0, NAN, 1.0, 3.0};
    memcpy(p, p0, sizeof p);
    ref64_param_init(&st, &c, 4);
    ref64_step(&c, &st, p, gk, 1.0, 0);
    const double sk = 0.5 / sqrt(3.0);
    ASSERT_NEAR(st.last_trust_ratio, sk);
    ASSERT_NEAR(st.last_update_sq_norm, 3.0);
    assert_same_bits(p[1], 1.0);
    assert_same_bits(st.slot[0][1], 0.0);
    assert_same_bits(st.slot[1][1], 0.0);
    for (int i = 0; i < 4; ++i) e[i] = i == 1 ? 1.0 : 0.95 * p0[i] - 0.1 * sk * sgn(gk[i]);
    ASSERT_ALL_NEAR(p, e, 4);
    ref64_param_free(&st);

    /* ||p|| = 0: scale 0, the parameter is not written (-0.0 stays -0.0), the states still update */
    double z[3] = {0.0, -0.0, 0.0};
    const double gz[3] = {1.0, -1.0, 2.0};
    c.eps = 1e-8;
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, z, gz, 1.0, 0);
    assert_true(st.last_trust_ratio == 0.0);
    assert_same_bits(z[0], 0.0);
    assert_same_bits(z[1], -0.0);
    assert_same_bits(z[2], 0.0);
    for (int i = 0; i < 3; ++i) near_impl(st.slot[0][i], (1.0 - 0.9) * gz[i], "m", i, __FILE__, __LINE__);
    ref64_param_free(&st);
}

/* LARS, momentum .9, coupled decay .1, max_unorm .02, lr .5. Step 1 by hand: p0 = {3, 0, 4} (||p|| = 5),
 * g = {6, 0, -8}: buf = g + .1 p0 = {6.3, 0, -7.6}, ||buf||^2 = 97.45, scale = .1 / sqrt(97.45).
 * Step 2: literals (60 digits). */
static void lars_trust_ratio(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_LARS);
    c.lr = 0.5; c.momentum = 0.9; c.weight_decay = 0.1; c.max_unorm = 0.02;
    const double p0[3] = {3.0, 0.0, 4.0};
    const double g1[3] = {6.0, 0.0, -8.0}, g2[3] = {1.0, 2.0, 2.0};
    double p[3], e[3];
    memcpy(p, p0, sizeof p);
    ref64_param st;
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, p, g1, 1.0, 0);
    const double buf1[3] = {6.3, 0.0, -7.6};
    const double s1 = 0.1 / sqrt(97.45);
    ASSERT_NEAR(st.last_trust_ratio, s1);
    ASSERT_NEAR(st.last_update_sq_norm, 97.45);
    ASSERT_ALL_NEAR(st.slot[0], buf1, 3);
    for (int i = 0; i < 3; ++i) e[i] = p0[i] - 0.5 * s1 * buf1[i];
    ASSERT_ALL_NEAR(p, e, 3);
    const double p1[3] = {2.9680905269714706778, 0.0, 4.0384939674629877536};
    ASSERT_ALL_NEAR(p, p1, 3);
    ref64_step(&c, &st, p, g2, 1.0, 0);
    const double p2[3] = {2.9270021732366009933, -0.0117954585590264284, 4.0646571827641273162};
    const double buf2[3] = {6.9668090526971472391, 2.0, -4.436150603253701351};
    ASSERT_NEAR(st.last_trust_ratio, 0.0117954585590264284);
    ASSERT_NEAR(st.last_update_sq_norm, 72.215860551491100508);
    ASSERT_ALL_NEAR(p, p2, 3);
    ASSERT_ALL_NEAR(st.slot[0], buf2, 3);
    ref64_param_free(&st);

    /* ||p|| = 0: the parameter never moves, the buffer still accumulates */
    c.weight_decay = 0.0;
    double z[3] = {0.0, -0.0, 0.0};
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, z, g1, 1.0, 0);
    assert_true(st.last_trust_ratio == 0.0);
    ASSERT_ALL_NEAR(st.slot[0], g1, 3);
    ref64_step(&c, &st, z, g2, 1.0, 0);
    assert_true(st.last_trust_ratio == 0.0);
    assert_same_bits(z[0], 0.0);
    assert_same_bits(z[1], -0.0);
    assert_same_bits(z[2], 0.0);
    for (int i = 0; i < 3; ++i) e[i] = 0.9 * g1[i] + g2[i];
    ASSERT_ALL_NEAR(st.slot[0], e, 3);
    ref64_param_free(&st);

    /* cap off: momentum SGD without dampening; element 0 kept at t == 1 gets buf = 0*.9 + g2 */
    c.max_unorm = 0.0;
    const double h1[3] = {INFINITY, 0.0, -8.0};
    memcpy(p, p0, sizeof p);
    ref64_param_init(&st, &c, 3);
    ref64_step(&c, &st, p, h1, 1.0, 0);
    assert_true(st.last_trust_ratio == 1.0);
    assert_same_bits(p[0], 3.0);
    assert_same_bits(st.slot[0][0], 0.0);
    ref64_step(&c, &st, p, g2, 1.0, 0);
    const double eb[3] = {1.0, 2.0, 0.9 * -8.0 + 2.0};
    const double ep[3] = {3.0 - 0.5 * 1.0, 0.0 - 0.5 * (0.0 + 2.0), 4.0 - 0.5 * (-8.0 + (-7.2 + 2.0))};
    ASSERT_ALL_NEAR(st.slot[0], eb, 3);
    ASSERT_ALL_NEAR(p, ep, 3);
    ref64_param_free(&st);
}

/* AdEMAMix without schedulers, then with t_alpha = 4, t_beta3 = 10 (alpha_t = 1.25, 2.5; beta3_t from
 * §5.2 at t = 1, 2 as 60-digit literals). Step 1 by hand (no schedulers): m1_hat = g, nu_hat = g^2,
 * m2 = (1 - b3) g, u = (g + 5 (1 - b3) g) / (|g| + eps) + wd p0. */
static void ademamix_two_steps(void** state) {
    (void)state;
    const double p0[3] = {1.0, -2.0, 0.5};
    const double g1[3] = {0.5, 1.0, -0.25}, g2[3] = {-1.5, 0.5, 0.125};
    const double m1[3] = {-0.10499999999999997558, 0.13999999999999997113, -0.0099999999999999983347};
    const double nu[3] = {0.00249975000000000222, 0.0012490000000000011084, 0.000078062500000000069278};
    for (int sched = 0; sched < 2; ++sched) {
        ref64_config c = config(BNB_ALGO_ADEMAMIX);
        c.lr = 0.01; c.beta1 = 0.9; c.beta2 = 0.999; c.beta3 = 0.9999; c.alpha = 5.0; c.eps = 1e-8;
        c.weight_decay = 0.1;
        if (sched) { c.t_alpha = 4.0; c.t_beta3 = 10.0; }
        const double at1 = sched ? 1.25 : 5.0;
        const double b3t1 = sched ? 0.99900891204251988762 : 0.9999;
        const double b3t2 = sched ? 0.99950199030002627844 : 0.9999;
        double p[3], e[3], m2[3];
        memcpy(p, p0, sizeof p);
        ref64_param st;
        ref64_param_init(&st, &c, 3);
        ref64_step(&c, &st, p, g1, 1.0, 0);
        for (int i = 0; i < 3; ++i) {
            m2[i] = (1.0 - b3t1) * g1[i];
            e[i] = p0[i] - 0.01 * ((g1[i] + at1 * m2[i]) / (fabs(g1[i]) + 1e-8) + 0.1 * p0[i]);
        }
        ASSERT_ALL_NEAR(st.slot[1], m2, 3);
        ASSERT_ALL_NEAR(p, e, 3);
        ref64_step(&c, &st, p, g2, 1.0, 0);
        for (int i = 0; i < 3; ++i) m2[i] = b3t2 * m2[i] + (1.0 - b3t2) * g2[i];
        ASSERT_ALL_NEAR(st.slot[0], m1, 3);
        ASSERT_ALL_NEAR(st.slot[1], m2, 3);
        ASSERT_ALL_NEAR(st.slot[2], nu, 3);
        const double p2_plain[3] = {0.99295237495354888594, -2.0153282787946014124, 0.51166202698166243456};
        const double p2_sched[3] = {0.992946149723178844, -2.0153653778344520251, 0.51168970071186355844};
        const double m2_sched[3] = {-0.00025171735692870226896, 0.001239599236050620924, -0.00018539738401922484087};
        const double m2_plain[3] = {-0.00010000499999998898549, 0.00014998999999998348208, -0.000012497499999998623874};
        ASSERT_ALL_NEAR(p, sched ? p2_sched : p2_plain, 3);
        ASSERT_ALL_NEAR(st.slot[1], sched ? m2_sched : m2_plain, 3);
        ref64_param_free(&st);
    }
}

/* Scheduler caps: t_alpha = t_beta3 = 2. alpha_t = 2.5, 5, 5, 5; beta3_t(1) = the §5.2 value at
 * t/t_beta3 = 1/2, then beta3 from t = 2 on (reached at t = t_beta3, capped after). With a constant g,
 * m1_hat = g and nu_hat = g^2 every step, m2_k = (1 - prod beta3_t) g. */
static void ademamix_scheduler_caps(void** state) {
    (void)state;
    ref64_config c = config(BNB_ALGO_ADEMAMIX);
    c.lr = 0.01; c.beta1 = 0.9; c.beta2 = 0.999; c.beta3 = 0.9999; c.alpha = 5.0; c.eps = 1e-8;
    c.weight_decay = 0.0; c.t_alpha = 2.0; c.t_beta3 = 2.0;
    const double b3t[4] = {0.99980019962548029625, 0.9999, 0.9999, 0.9999};
    const double at[4] = {2.5, 5.0, 5.0, 5.0};
    const double g[2] = {0.5, -3.0};
    double p[2] = {1.0, 1.0}, e[2] = {1.0, 1.0};
    ref64_param st;
    ref64_param_init(&st, &c, 2);
    double prod = 1.0;
    for (int k = 0; k < 4; ++k) {
        ref64_step(&c, &st, p, g, 1.0, 0);
        prod *= b3t[k];
        for (int i = 0; i < 2; ++i) {
            const double m2 = (1.0 - prod) * g[i];
            near_impl(st.slot[1][i], m2, "m2", i, __FILE__, __LINE__);
            e[i] = e[i] - 0.01 * (g[i] + at[k] * m2) / (fabs(g[i]) + 1e-8);
        }
        ASSERT_ALL_NEAR(p, e, 2);
    }
    ref64_param_free(&st);
}

/* §5.3 for every algorithm: after one full step, a step with g = {NaN, +Inf, -Inf, +0, -0, x} and
 * skip_zeros keeps elements 0-4 bitwise (parameter and every slot, no decay) while t still advances;
 * without skip_zeros the zeros are applied. Each applied element must match a one-element run of the same
 * element (elements are independent; LAMB/LARS run with the cap off here). */
static void prologue_keeps_elements(void** state) {
    (void)state;
    ref64_config cs[10];
    for (int k = 0; k < 10; ++k) {
        static const int32_t algs[10] = {BNB_ALGO_ADAM, BNB_ALGO_ADAMW, BNB_ALGO_SGD, BNB_ALGO_SGD,
                                         BNB_ALGO_LION, BNB_ALGO_LAMB, BNB_ALGO_LARS, BNB_ALGO_RMSPROP,
                                         BNB_ALGO_ADAGRAD, BNB_ALGO_ADEMAMIX};
        ref64_config c = config(algs[k]);
        c.lr = 0.05; c.beta1 = 0.9; c.beta2 = 0.99; c.beta3 = 0.999; c.eps = 1e-6; c.weight_decay = 0.1;
        c.alpha = algs[k] == BNB_ALGO_RMSPROP ? 0.9 : 2.0;
        c.momentum = (k == 3 || algs[k] == BNB_ALGO_LARS) ? 0.8 : 0.0;
        c.dampening = k == 3 ? 0.25 : 0.0;
        c.t_alpha = 3.0; c.t_beta3 = 5.0;
        cs[k] = c;
    }
    const double p0[6] = {0.5, -1.5, 2.0, -0.75, 1.25, 3.0};
    const double gA[6] = {0.2, -0.4, 0.6, -0.8, 1.0, -1.2};
    const double gB[6] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 0.7};
    for (int k = 0; k < 10; ++k) {
        const ref64_config* c = &cs[k];
        for (int skip = 0; skip < 2; ++skip) {
            double p[6], pA[6], sA[3][6];
            memcpy(p, p0, sizeof p);
            ref64_param st;
            ref64_param_init(&st, c, 6);
            ref64_step(c, &st, p, gA, 1.0, skip);
            memcpy(pA, p, sizeof p);
            for (int s = 0; s < st.num_slots; ++s) memcpy(sA[s], st.slot[s], sizeof sA[s]);
            ref64_step(c, &st, p, gB, 0.5, skip);
            assert_int_equal(st.t, 2);
            for (int i = 0; i < 6; ++i) {
                const int kept = i < 3 || (skip && i < 5);
                if (kept) {
                    assert_same_bits(p[i], pA[i]);
                    for (int s = 0; s < st.num_slots; ++s) assert_same_bits(st.slot[s][i], sA[s][i]);
                } else {
                    double q = p0[i];
                    ref64_param one;
                    ref64_param_init(&one, c, 1);
                    ref64_step(c, &one, &q, &gA[i], 1.0, skip);
                    ref64_step(c, &one, &q, &gB[i], 0.5, skip);
                    assert_same_bits(p[i], q);
                    for (int s = 0; s < st.num_slots; ++s) assert_same_bits(st.slot[s][i], one.slot[s][0]);
                    if (i >= 3) assert_false(p[i] == pA[i]); /* wd != 0: an applied zero gradient moves p */
                    ref64_param_free(&one);
                }
            }
            ref64_param_free(&st);
        }
    }
}

/* The gradient scale multiplies the raw gradient before everything else (§5.3): for every algorithm, two
 * steps with (g, gs = .5) equal, bitwise, two steps with (.5 g, gs = 1) (.5 g is exact), and differ
 * from two steps with (g, 1). */
static void gradient_scale_multiplies_gradient(void** state) {
    (void)state;
    static const int32_t algs[10] = {BNB_ALGO_ADAM, BNB_ALGO_ADAMW, BNB_ALGO_SGD, BNB_ALGO_SGD,
                                     BNB_ALGO_LION, BNB_ALGO_LAMB, BNB_ALGO_LARS, BNB_ALGO_RMSPROP,
                                     BNB_ALGO_ADAGRAD, BNB_ALGO_ADEMAMIX};
    const double p0[3] = {0.5, -1.5, 2.0};
    const double g1[3] = {0.2, -0.4, 0.6}, g2[3] = {-0.3, 0.1, 0.9};
    const double h1[3] = {0.1, -0.2, 0.3}, h2[3] = {-0.15, 0.05, 0.45};
    for (int k = 0; k < 10; ++k) {
        ref64_config c = config(algs[k]);
        c.lr = 0.05; c.beta1 = 0.9; c.beta2 = 0.99; c.beta3 = 0.999; c.eps = 1e-6; c.weight_decay = 0.1;
        c.alpha = algs[k] == BNB_ALGO_RMSPROP ? 0.9 : 2.0;
        c.momentum = (k == 3 || algs[k] == BNB_ALGO_LARS) ? 0.8 : 0.0;
        c.max_unorm = (algs[k] == BNB_ALGO_LAMB || algs[k] == BNB_ALGO_LARS) ? 0.5 : 0.0;
        double pa[3], pb[3], pc[3];
        memcpy(pa, p0, sizeof pa);
        memcpy(pb, p0, sizeof pb);
        memcpy(pc, p0, sizeof pc);
        ref64_param a, b, u;
        ref64_param_init(&a, &c, 3);
        ref64_param_init(&b, &c, 3);
        ref64_param_init(&u, &c, 3);
        ref64_step(&c, &a, pa, g1, 0.5, 0);
        ref64_step(&c, &a, pa, g2, 0.5, 0);
        ref64_step(&c, &b, pb, h1, 1.0, 0);
        ref64_step(&c, &b, pb, h2, 1.0, 0);
        ref64_step(&c, &u, pc, g1, 1.0, 0);
        ref64_step(&c, &u, pc, g2, 1.0, 0);
        int differs = 0;
        for (int i = 0; i < 3; ++i) {
            assert_same_bits(pa[i], pb[i]);
            differs |= pa[i] != pc[i];
            for (int s = 0; s < a.num_slots; ++s) {
                assert_same_bits(a.slot[s][i], b.slot[s][i]);
                differs |= a.slot[s][i] != u.slot[s][i];
            }
        }
        assert_true(differs);
        ref64_param_free(&a);
        ref64_param_free(&b);
        ref64_param_free(&u);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slots_and_init),
        cmocka_unit_test(adam_equal_gradients),
        cmocka_unit_test(adam_coupled_decay_two_steps),
        cmocka_unit_test(adamw_decoupled_decay),
        cmocka_unit_test(sgd_plain),
        cmocka_unit_test(sgd_momentum_and_dampening),
        cmocka_unit_test(sgd_nesterov),
        cmocka_unit_test(sgd_element_skipped_at_first_step),
        cmocka_unit_test(rmsprop_two_steps),
        cmocka_unit_test(adagrad_equal_gradients),
        cmocka_unit_test(lion_sign_steps),
        cmocka_unit_test(lamb_trust_ratio),
        cmocka_unit_test(lars_trust_ratio),
        cmocka_unit_test(ademamix_two_steps),
        cmocka_unit_test(ademamix_scheduler_caps),
        cmocka_unit_test(prologue_keeps_elements),
        cmocka_unit_test(gradient_scale_multiplies_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
