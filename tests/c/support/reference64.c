/* Independent float64 reference of the bnb8 update rules (see reference64.h).
 *
 * Each rule is written the way its upstream implementation writes it, in double:
 *   Adam / AdamW  torch.optim.Adam(W) (single-tensor path): bias_correction1 = 1 - beta1^t,
 *                 denom = sqrt(v) / sqrt(bias_correction2) + eps, p -= lr / bias_correction1 * m / denom.
 *   SGD           torch.optim.SGD: buf = clone(g) at the first step, then momentum*buf + (1-dampening)*g.
 *   RMSprop       torch.optim.RMSprop, non-centered, no momentum.
 *   Adagrad       torch.optim.Adagrad, lr_decay = 0, initial_accumulator_value = 0.
 *   Lion          lion-pytorch: decay, sign of the interpolation, then the momentum update.
 *   LAMB          Adam direction u = m_hat / (sqrt(v_hat) + eps) with bitsandbytes' capped trust ratio.
 *   LARS          bitsandbytes' reference LARS (torch SGD momentum without dampening, capped ratio).
 *   AdEMAMix      bitsandbytes' reference AdEMAMix (m1 and nu bias-corrected, m2 not; decay added to u).
 * The element prologue (non-finite gradients, skip_zeros, gradient scale) and the trust-ratio rules are
 * those of ALGORITHMS.md §5.3 and §7.2; norms are plain double sums. */
#include "reference64.h"

#include <math.h>
#include <stdlib.h>

int ref64_num_slots(const ref64_config* c) {
    switch (c->algorithm) {
    case BNB_ALGO_ADAM:
    case BNB_ALGO_ADAMW:
    case BNB_ALGO_LAMB:
        return 2;
    case BNB_ALGO_SGD:
        return c->momentum != 0.0 ? 1 : 0;
    case BNB_ALGO_LARS:
    case BNB_ALGO_RMSPROP:
    case BNB_ALGO_ADAGRAD:
    case BNB_ALGO_LION:
        return 1;
    case BNB_ALGO_ADEMAMIX:
        return 3;
    default:
        abort(); /* a test bug: unknown algorithm */
    }
}

void ref64_param_init(ref64_param* p, const ref64_config* c, int64_t n) {
    if (n < 0) abort();
    p->n = n;
    p->t = 0;
    p->num_slots = ref64_num_slots(c);
    for (int k = 0; k < 3; ++k) {
        p->slot[k] = NULL;
        if (k < p->num_slots) {
            p->slot[k] = (double*)calloc(n > 0 ? (size_t)n : 1u, sizeof(double));
            if (p->slot[k] == NULL) abort();
        }
    }
    p->last_trust_ratio = 1.0;
    p->last_update_sq_norm = 0.0;
}

void ref64_param_free(ref64_param* p) {
    for (int k = 0; k < 3; ++k) {
        free(p->slot[k]);
        p->slot[k] = NULL;
    }
    p->num_slots = 0;
    p->n = 0;
}

/* §5.3: an element takes part in the step iff its raw gradient is finite and, with skip_zeros, nonzero
 * (both +0 and -0 are zeros). */
static int is_applied(double raw, int skip_zeros) {
    if (!isfinite(raw)) return 0;
    if (skip_zeros && raw == 0.0) return 0;
    return 1;
}

static double sum_of_squares(const double* x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
    return s;
}

/* §7.2: the ratio can only shrink the step; 1 when the cap is off or the update is zero. A NaN ratio
 * (e.g. a NaN parameter norm) compares false and leaves the scale at 1, like std::min(1, r). */
static double trust_scale(double max_unorm, double pn, double un) {
    if (max_unorm == 0.0 || un == 0.0) return 1.0;
    double r = max_unorm * pn / un;
    return r < 1.0 ? r : 1.0;
}

static void adam_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs,
                      int skip_zeros, int decoupled) {
    const double t = (double)st->t;
    const double lr = c->lr, beta1 = c->beta1, beta2 = c->beta2, eps = c->eps, wd = c->weight_decay;
    const double bias_correction1 = 1.0 - pow(beta1, t);
    const double bias_correction2 = 1.0 - pow(beta2, t);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = sqrt(bias_correction2);
    double* exp_avg = st->slot[0];
    double* exp_avg_sq = st->slot[1];
    for (int64_t i = 0; i < st->n; ++i) {
        if (!is_applied(g[i], skip_zeros)) continue;
        double grad = gs * g[i];
        double p = param[i];
        if (decoupled) {
            if (wd != 0.0) p = p * (1.0 - lr * wd);
        } else if (wd != 0.0) {
            grad = grad + wd * p;
        }
        exp_avg[i] = beta1 * exp_avg[i] + (1.0 - beta1) * grad;
        exp_avg_sq[i] = beta2 * exp_avg_sq[i] + (1.0 - beta2) * grad * grad;
        const double denom = sqrt(exp_avg_sq[i]) / bias_correction2_sqrt + eps;
        p = p - step_size * (exp_avg[i] / denom);
        param[i] = p;
    }
}

static void sgd_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs,
                     int skip_zeros) {
    const double lr = c->lr, momentum = c->momentum, dampening = c->dampening, wd = c->weight_decay;
    double* buf = st->num_slots > 0 ? st->slot[0] : NULL;
    for (int64_t i = 0; i < st->n; ++i) {
        if (!is_applied(g[i], skip_zeros)) continue;
        double d_p = gs * g[i];
        if (wd != 0.0) d_p = d_p + wd * param[i];
        if (momentum != 0.0) {
            /* torch creates the buffer as clone(d_p) at the first step; an element kept at t == 1 keeps
             * its zero buffer and is blended at its next applied step (§5.3). */
            if (st->t == 1)
                buf[i] = d_p;
            else
                buf[i] = momentum * buf[i] + (1.0 - dampening) * d_p;
            if (c->nesterov)
                d_p = d_p + momentum * buf[i];
            else
                d_p = buf[i];
        }
        param[i] = param[i] - lr * d_p;
    }
}

static void rmsprop_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs,
                         int skip_zeros) {
    const double lr = c->lr, alpha = c->alpha, eps = c->eps, wd = c->weight_decay;
    double* square_avg = st->slot[0];
    for (int64_t i = 0; i < st->n; ++i) {
        if (!is_applied(g[i], skip_zeros)) continue;
        double grad = gs * g[i];
        if (wd != 0.0) grad = grad + wd * param[i];
        square_avg[i] = alpha * square_avg[i] + (1.0 - alpha) * grad * grad;
        const double avg = sqrt(square_avg[i]) + eps;
        param[i] = param[i] - lr * (grad / avg);
    }
}

static void adagrad_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs,
                         int skip_zeros) {
    const double lr = c->lr, eps = c->eps, wd = c->weight_decay;
    const double clr = lr; /* lr / (1 + (t - 1) * lr_decay) with lr_decay = 0 */
    double* state_sum = st->slot[0];
    for (int64_t i = 0; i < st->n; ++i) {
        if (!is_applied(g[i], skip_zeros)) continue;
        double grad = gs * g[i];
        if (wd != 0.0) grad = grad + wd * param[i];
        state_sum[i] = state_sum[i] + grad * grad;
        const double std = sqrt(state_sum[i]) + eps;
        param[i] = param[i] - clr * (grad / std);
    }
}

static double sign_of(double x) {
    if (x > 0.0) return 1.0;
    if (x < 0.0) return -1.0;
    return 0.0; /* +-0 and NaN (§6.6) */
}

static void lion_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs,
                      int skip_zeros) {
    const double lr = c->lr, beta1 = c->beta1, beta2 = c->beta2, wd = c->weight_decay;
    double* exp_avg = st->slot[0];
    for (int64_t i = 0; i < st->n; ++i) {
        if (!is_applied(g[i], skip_zeros)) continue;
        const double grad = gs * g[i];
        double p = param[i];
        if (wd != 0.0) p = p * (1.0 - lr * wd);
        const double update = sign_of(exp_avg[i] * beta1 + grad * (1.0 - beta1));
        p = p - lr * update;
        exp_avg[i] = exp_avg[i] * beta2 + grad * (1.0 - beta2);
        param[i] = p;
    }
}

/* LAMB and LARS: first the states and the update direction u of every applied element, then the trust
 * ratio from ||p|| (all elements, step start) and ||u|| (applied elements), then the parameter. */
static void trust_ratio_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs,
                             int skip_zeros, int lamb) {
    const int64_t n = st->n;
    const double lr = c->lr, wd = c->weight_decay;
    double* u = (double*)calloc(n > 0 ? (size_t)n : 1u, sizeof(double));
    if (u == NULL) abort();
    const double param_sq_norm = sum_of_squares(param, n);

    if (lamb) {
        const double t = (double)st->t;
        const double beta1 = c->beta1, beta2 = c->beta2, eps = c->eps;
        const double bias_correction1 = 1.0 - pow(beta1, t);
        const double bias_correction2 = 1.0 - pow(beta2, t);
        double* exp_avg = st->slot[0];
        double* exp_avg_sq = st->slot[1];
        for (int64_t i = 0; i < n; ++i) {
            if (!is_applied(g[i], skip_zeros)) continue;
            const double grad = gs * g[i];
            exp_avg[i] = beta1 * exp_avg[i] + (1.0 - beta1) * grad;
            exp_avg_sq[i] = beta2 * exp_avg_sq[i] + (1.0 - beta2) * grad * grad;
            const double m_hat = exp_avg[i] / bias_correction1;
            const double v_hat = exp_avg_sq[i] / bias_correction2;
            u[i] = m_hat / (sqrt(v_hat) + eps);
        }
    } else {
        const double momentum = c->momentum;
        double* buf = st->slot[0];
        for (int64_t i = 0; i < n; ++i) {
            if (!is_applied(g[i], skip_zeros)) continue;
            double d_p = gs * g[i];
            if (wd != 0.0) d_p = d_p + wd * param[i];
            if (st->t == 1)
                buf[i] = d_p;
            else
                buf[i] = momentum * buf[i] + d_p;
            u[i] = buf[i];
        }
    }

    double update_sq_norm = 0.0;
    for (int64_t i = 0; i < n; ++i)
        if (is_applied(g[i], skip_zeros)) update_sq_norm += u[i] * u[i];
    const double scale = trust_scale(c->max_unorm, sqrt(param_sq_norm), sqrt(update_sq_norm));
    st->last_trust_ratio = scale;
    st->last_update_sq_norm = update_sq_norm;

    const double lr_scaled = lr * scale;
    if (lr_scaled != 0.0) { /* §7.2: otherwise the parameter is not written at all, decay included */
        for (int64_t i = 0; i < n; ++i) {
            if (!is_applied(g[i], skip_zeros)) continue;
            double p = param[i];
            if (lamb && wd != 0.0) p = p * (1.0 - lr * wd);
            param[i] = p - lr_scaled * u[i];
        }
    }
    free(u);
}

static double ademamix_alpha_t(const ref64_config* c, double t) {
    if (c->t_alpha > 0.0) {
        const double a = t * c->alpha / c->t_alpha;
        return a < c->alpha ? a : c->alpha;
    }
    return c->alpha;
}

static double ademamix_beta3_t(const ref64_config* c, double t) {
    if (c->t_beta3 > 0.0) {
        const double log_beta1 = log(c->beta1), log_beta3 = log(c->beta3);
        const double x = t / c->t_beta3;
        const double b = exp(log_beta1 * log_beta3 / ((1.0 - x) * log_beta3 + x * log_beta1));
        return b < c->beta3 ? b : c->beta3;
    }
    return c->beta3;
}

static void ademamix_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs,
                          int skip_zeros) {
    const double t = (double)st->t;
    const double lr = c->lr, beta1 = c->beta1, beta2 = c->beta2, eps = c->eps, wd = c->weight_decay;
    const double alpha_t = ademamix_alpha_t(c, t);
    const double beta3_t = ademamix_beta3_t(c, t);
    const double bias_correction1 = 1.0 - pow(beta1, t);
    const double bias_correction2 = 1.0 - pow(beta2, t);
    double* m1 = st->slot[0];
    double* m2 = st->slot[1];
    double* nu = st->slot[2];
    for (int64_t i = 0; i < st->n; ++i) {
        if (!is_applied(g[i], skip_zeros)) continue;
        const double grad = gs * g[i];
        m1[i] = beta1 * m1[i] + (1.0 - beta1) * grad;
        m2[i] = beta3_t * m2[i] + (1.0 - beta3_t) * grad;
        nu[i] = beta2 * nu[i] + (1.0 - beta2) * grad * grad;
        const double denom = sqrt(nu[i]) / sqrt(bias_correction2) + eps;
        double update = (m1[i] / bias_correction1 + alpha_t * m2[i]) / denom;
        if (wd != 0.0) update = update + wd * param[i];
        param[i] = param[i] - lr * update;
    }
}

void ref64_step(const ref64_config* c, ref64_param* st, double* param, const double* g, double gs, int skip_zeros) {
    st->t += 1;
    switch (c->algorithm) {
    case BNB_ALGO_ADAM: adam_step(c, st, param, g, gs, skip_zeros, 0); break;
    case BNB_ALGO_ADAMW: adam_step(c, st, param, g, gs, skip_zeros, 1); break;
    case BNB_ALGO_SGD: sgd_step(c, st, param, g, gs, skip_zeros); break;
    case BNB_ALGO_RMSPROP: rmsprop_step(c, st, param, g, gs, skip_zeros); break;
    case BNB_ALGO_ADAGRAD: adagrad_step(c, st, param, g, gs, skip_zeros); break;
    case BNB_ALGO_LION: lion_step(c, st, param, g, gs, skip_zeros); break;
    case BNB_ALGO_LAMB: trust_ratio_step(c, st, param, g, gs, skip_zeros, 1); break;
    case BNB_ALGO_LARS: trust_ratio_step(c, st, param, g, gs, skip_zeros, 0); break;
    case BNB_ALGO_ADEMAMIX: ademamix_step(c, st, param, g, gs, skip_zeros); break;
    default: abort(); /* a test bug: unknown algorithm */
    }
}
