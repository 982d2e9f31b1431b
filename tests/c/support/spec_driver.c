/* The spec driver (see spec_driver.h). Every section reference is to ALGORITHMS.md.
 *
 * Structure of one step (§5.1 step 3), written for clarity rather than speed:
 *   1. t += 1; gs from percentile clipping (§7.3);
 *   2. per-step scalars in double, rounded to fp32 once (§5.2);
 *   3. first pass (the "pre-pass" of §5.4, run for every parameter because it stores nothing the
 *      library would store): prologue (§5.3) and rule (§6) on every element, keeping the new fp32
 *      state values in scratch arrays; non-finite count; trust ratio (§7.2) from R(p*p) and R(u*u);
 *   4. parameter pass: the same prologue and rule again (now with the final lrs), writing each applied
 *      parameter element once (§1.4);
 *   5. requantization (§4) of the scratch state values per block (block-wise) or against the tensor
 *      absmax (tensor-wise), or the fp32 store (32-bit).
 * The old states are read (dequantized) in steps 3 and 4 and only overwritten in step 5. */
#include "spec_driver.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_BLOCK 256
#define SPEC_HISTORY 100

/* ---- maps (§2, Appendix A) ---------------------------------------------------------------------- */

static float g_maps[2][256]; /* [0] signed (state1), [1] unsigned (state2) */
static int g_maps_loaded = 0;

static void load_maps(void) {
    if (g_maps_loaded) return;
    if (bnb_qmap_copy(BNB_QMAP_SIGNED, g_maps[0]) != BNB_OK) abort();
    if (bnb_qmap_copy(BNB_QMAP_UNSIGNED, g_maps[1]) != BNB_OK) abort();
    g_maps_loaded = 1;
}

/* §2 table: state1 always uses the signed map (m, m1/m2, buf, and the RMSprop/Adagrad accumulators),
 * state2 (v, nu) the unsigned one. */
static const float* map_of(int state) { return g_maps[state == 0 ? 0 : 1]; }
static uint8_t zero_code(int state) { return (uint8_t)(state == 0 ? 127 : 0); }

static int64_t blocks_of(int64_t n) { return (n + SPEC_BLOCK - 1) / SPEC_BLOCK; }

static void* xcalloc(int64_t count, size_t size) {
    void* p = calloc((size_t)(count > 0 ? count : 1), size);
    if (p == NULL) abort();
    return p;
}

/* ---- algorithm shape (§3) ----------------------------------------------------------------------- */

static int states_of(const spec_config* c) {
    switch (c->algorithm) {
        case BNB_ALGO_ADAM:
        case BNB_ALGO_ADAMW:
        case BNB_ALGO_LAMB:
        case BNB_ALGO_ADEMAMIX: return 2;
        case BNB_ALGO_SGD: return c->momentum != 0.0 ? 1 : 0;
        case BNB_ALGO_LION:
        case BNB_ALGO_LARS:
        case BNB_ALGO_RMSPROP:
        case BNB_ALGO_ADAGRAD: return 1;
        default: abort();
    }
}

/* Element slots of the fp32 state values of one element: state1 row 0, state1 row 1 (AdEMAMix m2),
 * state2. */
#define SLOTS 3
static int slot_of(int state, int row) { return state == 0 ? row : 2; }

void spec_param_init(spec_param* s, const spec_config* c, int64_t n, bnb_state_mode mode) {
    load_maps();
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->n = n;
    s->t = 0;
    s->num_states = states_of(c);
    s->last_gs = 1.0;
    s->last_trust_ratio = 1.0;
    s->last_update_sq_norm = 0.0;
    for (int k = 0; k < s->num_states; ++k) {
        const int rows = (k == 0 && c->algorithm == BNB_ALGO_ADEMAMIX) ? 2 : 1;
        s->rows[k] = rows;
        if (mode == BNB_STATE_MODE_32BIT) {
            s->values[k] = xcalloc(rows * n, sizeof(float)); /* fp32 zeros */
        } else {
            const int64_t absmax_count = mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? rows * blocks_of(n) : rows;
            s->codes[k] = xcalloc(rows * n, 1);
            memset(s->codes[k], zero_code(k), (size_t)(rows * n)); /* fresh bytes are the zero code z */
            s->absmax[k] = xcalloc(absmax_count, sizeof(float));   /* absmax 0 */
        }
    }
}

void spec_param_free(spec_param* s) {
    for (int k = 0; k < 2; ++k) {
        free(s->values[k]);
        free(s->codes[k]);
        free(s->absmax[k]);
    }
    memset(s, 0, sizeof *s);
}

/* ---- quantization (§3 dequantize, §4) ----------------------------------------------------------- */

/* Index into absmax[state] of element j (< n) of row `row`. */
static int64_t absmax_index(const spec_param* s, int row, int64_t j) {
    if (s->mode == BNB_STATE_MODE_8BIT_BLOCKWISE) return (int64_t)row * blocks_of(s->n) + j / SPEC_BLOCK;
    return row; /* tensor-wise: one absmax per row (AdEMAMix absmax1[2] = m1, m2) */
}

/* §3: s = map[byte] * absmax, +0.0 when absmax is 0. */
static float dequantize(const float* map, uint8_t code, float absmax) {
    if (absmax == 0.0f) return 0.0f;
    return map[code] * absmax;
}

/* Old fp32 value of state `state`, row `row`, element j < n. */
static float state_get(const spec_param* s, int state, int row, int64_t j) {
    const int64_t flat = (int64_t)row * s->n + j;
    if (s->mode == BNB_STATE_MODE_32BIT) return s->values[state][flat];
    return dequantize(map_of(state), s->codes[state][flat], s->absmax[state][absmax_index(s, row, j)]);
}

float spec_state_value(const spec_param* s, int state, int64_t i) {
    load_maps();
    const int64_t row = s->n > 0 ? i / s->n : 0;
    return state_get(s, state, (int)row, i - row * s->n);
}

uint8_t spec_select(const float* map, float x) {
    if (isnan(x)) return 0;                  /* rule 1 */
    if (x <= map[0]) return 0;               /* rule 2 */
    if (x >= map[255]) return 255;
    int k = 0;                               /* rule 3: map[k] <= x < map[k+1] */
    while (!(map[k] <= x && x < map[k + 1])) ++k;
    const float sum = map[k] + map[k + 1];
    const float mid = sum * 0.5f;
    if (x > mid) return (uint8_t)(k + 1);
    if (x < mid) return (uint8_t)k;
    return (uint8_t)((k % 2 == 0) ? k : k + 1); /* tie: the even index */
}

/* §4.3 for one element of a block whose reciprocal is r = 1.0f / A (A >= 2^-126), plus the sign fix
 * for the signed map. */
static uint8_t quantize_element(int state, float value, float r) {
    const float* map = map_of(state);
    const float x = value * r;
    uint8_t c = spec_select(map, x);
    if (state == 0 && !isnan(value) && (signbit(map[c]) != 0) != (signbit(value) != 0)) {
        c = (uint8_t)(value > 0.0f ? c + 1 : c - 1);
    }
    return c;
}

/* §4.1: A = fmax(...fmax(+0.0, |s_0|)...) over values[begin, end). */
static float absmax_of_range(const float* values, int64_t begin, int64_t end) {
    float a = 0.0f;
    for (int64_t i = begin; i < end; ++i) a = fmaxf(a, fabsf(values[i]));
    return a;
}

/* §4.2-4.3: quantize values[begin, end) of row `row` of state `state` against A; returns the absmax to
 * store (0 for a zero block). */
static float quantize_range(spec_param* s, int state, int row, const float* values, int64_t begin, int64_t end,
                            float a) {
    uint8_t* codes = s->codes[state] + (int64_t)row * s->n;
    if (a < 0x1.0p-126f) { /* zero block: absmax 0 and z everywhere; never 0/0 */
        for (int64_t i = begin; i < end; ++i) codes[i] = zero_code(state);
        return 0.0f;
    }
    const float r = 1.0f / a; /* once per block (or tensor) */
    for (int64_t i = begin; i < end; ++i) codes[i] = quantize_element(state, values[i], r);
    return a;
}

/* ---- deterministic reduction R (§7.1) ----------------------------------------------------------- */

/* R over x[0, n): 256 fp32 lanes per block (zeros past n), tree s = 128..1 in fp32; block partials to
 * double; runs of 256 partials (padded with 0.0) reduced by the same tree in double, until one value. */
static double reduce_R(const float* x, int64_t n) {
    const int64_t blocks = blocks_of(n);
    if (blocks == 0) return 0.0;
    double* partial = xcalloc(blocks, sizeof(double));
    for (int64_t b = 0; b < blocks; ++b) {
        float lane[SPEC_BLOCK];
        for (int j = 0; j < SPEC_BLOCK; ++j) {
            const int64_t i = b * SPEC_BLOCK + j;
            lane[j] = i < n ? x[i] : 0.0f;
        }
        for (int stride = SPEC_BLOCK / 2; stride >= 1; stride /= 2) {
            for (int j = 0; j < stride; ++j) lane[j] = lane[j] + lane[j + stride];
        }
        partial[b] = (double)lane[0];
    }
    int64_t count = blocks;
    while (count > 1) {
        const int64_t runs = (count + SPEC_BLOCK - 1) / SPEC_BLOCK;
        for (int64_t r = 0; r < runs; ++r) {
            double lane[SPEC_BLOCK];
            for (int j = 0; j < SPEC_BLOCK; ++j) {
                const int64_t i = r * SPEC_BLOCK + j;
                lane[j] = i < count ? partial[i] : 0.0;
            }
            for (int stride = SPEC_BLOCK / 2; stride >= 1; stride /= 2) {
                for (int j = 0; j < stride; ++j) lane[j] = lane[j] + lane[j + stride];
            }
            partial[r] = lane[0]; /* r <= r * 256: run r's inputs are already read */
        }
        count = runs;
    }
    const double result = partial[0];
    free(partial);
    return result;
}

/* ---- per-step scalars (§5.2) -------------------------------------------------------------------- */

typedef struct spec_scalars {
    int32_t algorithm;
    int64_t t;
    int has_state;      /* SGD: momentum buffer exists (fixed at creation) */
    int nesterov;
    float lr, eps, wd;
    float b1, b2, nb1, nb2;
    float ic1, ic2, ss, omd, dec;
    float at, b3t, nb3t;
    float gs, lrs;
} spec_scalars;

static double dmin(double a, double b) { return a < b ? a : b; }

static void compute_scalars(const spec_config* c, const spec_param* s, float gs, spec_scalars* k) {
    const double t = (double)s->t;
    double b1;
    switch (c->algorithm) {
        case BNB_ALGO_RMSPROP: b1 = c->alpha; break;
        case BNB_ALGO_SGD:
        case BNB_ALGO_LARS: b1 = c->momentum; break;
        default: b1 = c->beta1; break;
    }
    const double b2 = c->beta2;
    memset(k, 0, sizeof *k);
    k->algorithm = c->algorithm;
    k->t = s->t;
    k->has_state = s->num_states > 0;
    k->nesterov = c->nesterov;
    k->lr = (float)c->lr;
    k->eps = (float)c->eps;
    k->wd = (float)c->weight_decay;
    k->b1 = (float)b1;
    k->b2 = (float)b2;
    k->nb1 = (float)(1.0 - b1);
    k->nb2 = (float)(1.0 - b2);
    k->ic1 = (float)(1.0 / (1.0 - pow(b1, t)));
    k->ic2 = (float)(1.0 / sqrt(1.0 - pow(b2, t)));
    k->ss = (float)(c->lr / (1.0 - pow(b1, t)));
    k->omd = (float)(1.0 - c->dampening);
    k->dec = (float)(1.0 - c->lr * c->weight_decay);
    if (c->algorithm == BNB_ALGO_ADEMAMIX) {
        const double alpha_t = c->t_alpha > 0.0 ? dmin(t * c->alpha / c->t_alpha, c->alpha) : c->alpha;
        double beta3_t = c->beta3;
        if (c->t_beta3 > 0.0) {
            const double lb1 = log(c->beta1);
            const double lb3 = log(c->beta3);
            const double ratio = t / c->t_beta3;
            beta3_t = dmin(exp(lb1 * lb3 / ((1.0 - ratio) * lb3 + ratio * lb1)), c->beta3);
        }
        k->at = (float)alpha_t;
        k->b3t = (float)beta3_t;
        k->nb3t = (float)(1.0 - beta3_t);
    }
    k->gs = gs;
    k->lrs = k->lr;
}

/* ---- prologue and rules (§5.3, §6) -------------------------------------------------------------- */

enum { KEPT_NONFINITE = -1, KEPT = 0, APPLIED = 1 };

/* The rule of §6 for one applied element (gr finite, not skipped). st[] holds the element's old fp32 states (slots) on entry and
 * the new ones on return when applied; *p is the fp32 parameter in, the new one out; *u is the update
 * direction whose square enters the trust ratio (LAMB: u, LARS: the new buf). */
static int element(const spec_scalars* k, float gr, float* p, float st[SLOTS], float* u) {
    float g = k->gs * gr;
    float pf = *p;
    *u = 0.0f;
    switch (k->algorithm) {
        case BNB_ALGO_ADAM: { /* §6.1 */
            if (k->wd != 0.0f) g = g + k->wd * pf;
            const float m = k->b1 * st[0] + k->nb1 * g;
            const float v = k->b2 * st[2] + k->nb2 * (g * g);
            pf = pf - k->ss * (m / (sqrtf(v) * k->ic2 + k->eps));
            st[0] = m;
            st[2] = v;
            break;
        }
        case BNB_ALGO_ADAMW: { /* §6.2 */
            if (k->wd != 0.0f) pf = pf * k->dec;
            const float m = k->b1 * st[0] + k->nb1 * g;
            const float v = k->b2 * st[2] + k->nb2 * (g * g);
            pf = pf - k->ss * (m / (sqrtf(v) * k->ic2 + k->eps));
            st[0] = m;
            st[2] = v;
            break;
        }
        case BNB_ALGO_SGD: { /* §6.3 */
            if (k->wd != 0.0f) g = g + k->wd * pf;
            if (!k->has_state) {
                pf = pf - k->lr * g;
            } else {
                const float buf = (k->t == 1) ? g : k->b1 * st[0] + k->omd * g;
                const float d = k->nesterov ? g + k->b1 * buf : buf;
                pf = pf - k->lr * d;
                st[0] = buf;
            }
            break;
        }
        case BNB_ALGO_RMSPROP: { /* §6.4 */
            if (k->wd != 0.0f) g = g + k->wd * pf;
            const float v = k->b1 * st[0] + k->nb1 * (g * g);
            pf = pf - k->lr * (g / (sqrtf(v) + k->eps));
            st[0] = v;
            break;
        }
        case BNB_ALGO_ADAGRAD: { /* §6.5 */
            if (k->wd != 0.0f) g = g + k->wd * pf;
            const float v = st[0] + g * g;
            pf = pf - k->lr * (g / (sqrtf(v) + k->eps));
            st[0] = v;
            break;
        }
        case BNB_ALGO_LION: { /* §6.6 */
            if (k->wd != 0.0f) pf = pf * k->dec;
            const float c = k->b1 * st[0] + k->nb1 * g;
            const float sgn = c > 0.0f ? 1.0f : (c < 0.0f ? -1.0f : 0.0f);
            pf = pf - k->lr * sgn;
            st[0] = k->b2 * st[0] + k->nb2 * g;
            break;
        }
        case BNB_ALGO_LAMB: { /* §6.7 */
            if (k->wd != 0.0f) pf = pf * k->dec;
            const float m = k->b1 * st[0] + k->nb1 * g;
            const float v = k->b2 * st[2] + k->nb2 * (g * g);
            const float uu = (m * k->ic1) / (sqrtf(v) * k->ic2 + k->eps);
            pf = pf - k->lrs * uu;
            st[0] = m;
            st[2] = v;
            *u = uu;
            break;
        }
        case BNB_ALGO_LARS: { /* §6.8 */
            if (k->wd != 0.0f) g = g + k->wd * pf;
            const float buf = (k->t == 1) ? g : k->b1 * st[0] + g;
            pf = pf - k->lrs * buf;
            st[0] = buf;
            *u = buf;
            break;
        }
        case BNB_ALGO_ADEMAMIX: { /* §6.9 */
            const float m1 = k->b1 * st[0] + k->nb1 * g;
            const float m2 = k->b3t * st[1] + k->nb3t * g;
            const float nu = k->b2 * st[2] + k->nb2 * (g * g);
            float uu = (m1 * k->ic1 + k->at * m2) / (sqrtf(nu) * k->ic2 + k->eps);
            if (k->wd != 0.0f) uu = uu + k->wd * pf;
            pf = pf - k->lr * uu;
            st[0] = m1;
            st[1] = m2;
            st[2] = nu;
            break;
        }
        default: abort();
    }
    *p = pf;
    return APPLIED;
}

/* A raw gradient is usable when its square is finite: |gr| < 2^64 (docs/extreme-values.md). Written
 * here as a float comparison, independently of the library's bit test; NaN compares false. */
static int usable(float gr) { return fabsf(gr) < 0x1p64f; }

static int all_finite(const float st[SLOTS]) {
    for (int q = 0; q < SLOTS; ++q) {
        if (!isfinite(st[q])) return 0; /* unused slots hold 0 */
    }
    return 1;
}

/* §5.3 prologue around element(), as amended by docs/extreme-values.md: an unusable gradient is counted
 * and kept; skip_zeros on the RAW gradient; after the rule, an element whose new states or new parameter
 * (LAMB/LARS: p at step start and the direction u) are not finite is counted and kept. On a kept element
 * *p and st[] are unchanged. */
static int prologue_and_rule(const spec_config* c, const spec_scalars* k, float gr, float* p, float st[SLOTS],
                             float* u) {
    if (!usable(gr)) return KEPT_NONFINITE;
    if (c->skip_zeros && gr == 0.0f) return KEPT; /* +0 and -0 */
    float pn = *p, sn[SLOTS], un = 0.0f;
    memcpy(sn, st, sizeof sn);
    element(k, gr, &pn, sn, &un);
    const int trust = k->algorithm == BNB_ALGO_LAMB || k->algorithm == BNB_ALGO_LARS;
    const int finite = all_finite(sn) && (trust ? isfinite(*p) && isfinite(un) : isfinite(pn));
    if (!finite) return KEPT_NONFINITE;
    *p = pn;
    memcpy(st, sn, sizeof sn);
    *u = un;
    return APPLIED;
}

static float load_f32(const test_buffer* b, int64_t i) { return (float)buffer_get(b, i); }

int64_t spec_count_nonfinite(const test_buffer* grad) {
    int64_t count = 0;
    for (int64_t i = 0; i < grad->numel; ++i) {
        if (!usable((float)buffer_get(grad, i))) ++count;
    }
    return count;
}

/* ---- percentile clipping (§7.3) ----------------------------------------------------------------- */

static float clipping_scale(const spec_config* c, spec_param* s, const test_buffer* grad, float* scratch) {
    const int64_t n = s->n;
    for (int64_t i = 0; i < n; ++i) {
        const float gr = load_f32(grad, i);
        scratch[i] = usable(gr) ? gr * gr : 0.0f; /* RAW gradient; unusable elements contribute 0 */
    }
    const float q = (float)reduce_R(scratch, n);
    const int slot = (int)(s->t % SPEC_HISTORY);
    if (s->t == 1) {
        for (int j = 0; j < SPEC_HISTORY; ++j) s->history[j] = q;
    } else {
        s->history[slot] = q;
    }
    float sorted[SPEC_HISTORY];
    memcpy(sorted, s->history, sizeof sorted);
    for (int j = 1; j < SPEC_HISTORY; ++j) { /* insertion sort, ascending */
        const float key = sorted[j];
        int m = j - 1;
        while (m >= 0 && sorted[m] > key) {
            sorted[m + 1] = sorted[m];
            --m;
        }
        sorted[m + 1] = key;
    }
    const double cur = sqrt((double)s->history[slot]);
    const double clip = sqrt((double)sorted[c->percentile_clipping]);
    return cur > clip ? (float)(clip / cur) : 1.0f;
}

/* ---- the step (§5.1 step 3) --------------------------------------------------------------------- */

static void load_states(const spec_param* s, int64_t j, float st[SLOTS]) {
    for (int q = 0; q < SLOTS; ++q) st[q] = 0.0f;
    for (int k = 0; k < s->num_states; ++k) {
        for (int r = 0; r < s->rows[k]; ++r) st[slot_of(k, r)] = state_get(s, k, r, j);
    }
}

int64_t spec_step(const spec_config* c, spec_param* s, test_buffer* param, const test_buffer* grad) {
    load_maps();
    const int64_t n = s->n;
    const int trust_alg = c->algorithm == BNB_ALGO_LAMB || c->algorithm == BNB_ALGO_LARS;
    float* scratch = xcalloc(n, sizeof(float));

    /* 1. counter, clipping history and gs */
    s->t += 1;
    const float gs = c->percentile_clipping < 100 ? clipping_scale(c, s, grad, scratch) : 1.0f;
    s->last_gs = (double)gs;

    /* 2. per-step scalars */
    spec_scalars k;
    compute_scalars(c, s, gs, &k);

    /* 3. first pass: new fp32 states of every element (kept: the old value), u, applied flags. */
    float* fresh[SLOTS];
    for (int q = 0; q < SLOTS; ++q) fresh[q] = xcalloc(n, sizeof(float));
    float* u = xcalloc(n, sizeof(float));
    signed char* outcome = xcalloc(n, 1);
    int64_t nonfinite = 0;
    for (int64_t i = 0; i < n; ++i) {
        float st[SLOTS];
        load_states(s, i, st);
        float p = load_f32(param, i);
        float ui = 0.0f;
        const int r = prologue_and_rule(c, &k, load_f32(grad, i), &p, st, &ui);
        if (r == KEPT_NONFINITE) ++nonfinite;
        outcome[i] = (signed char)r;
        u[i] = r == APPLIED ? ui : 0.0f; /* kept elements contribute 0 to the norm */
        for (int q = 0; q < SLOTS; ++q) fresh[q][i] = st[q]; /* kept: old (dequantized) value */
    }

    /* trust ratio (§7.2) */
    s->last_trust_ratio = 1.0;
    s->last_update_sq_norm = 0.0;
    if (trust_alg && c->max_unorm > 0.0) {
        for (int64_t i = 0; i < n; ++i) {
            const float p = load_f32(param, i); /* p at step start, every real element */
            scratch[i] = p * p;
        }
        const double sp = reduce_R(scratch, n);
        for (int64_t i = 0; i < n; ++i) scratch[i] = u[i] * u[i];
        const double su = reduce_R(scratch, n);
        const double pn = sqrt(sp);
        const double un = sqrt(su);
        double scale = 1.0;
        if (un != 0.0) {
            const double ratio = c->max_unorm * pn / un;
            scale = ratio < 1.0 ? ratio : 1.0; /* min(1, ratio); a NaN ratio gives 1 */
        }
        k.lrs = (float)(c->lr * scale);
        s->last_trust_ratio = scale;
        s->last_update_sq_norm = su;
    } else if (trust_alg) {
        k.lrs = (float)(c->lr * 1.0);
    }

    /* 4. parameter pass: each applied element written once; LAMB/LARS write nothing when lrs == 0. */
    const int write_params = !(trust_alg && k.lrs == 0.0f);
    for (int64_t i = 0; i < n; ++i) {
        if (outcome[i] != APPLIED) continue;
        float st[SLOTS];
        load_states(s, i, st);
        float p = load_f32(param, i);
        float ui = 0.0f;
        if (prologue_and_rule(c, &k, load_f32(grad, i), &p, st, &ui) != APPLIED) abort();
        if (!write_params) continue;
        /* LAMB/LARS: a step p - lrs*u that is not finite keeps p (its states still advance) and counts. */
        if (trust_alg && !isfinite(p)) {
            ++nonfinite;
            continue;
        }
        buffer_set(param, i, (double)p);
    }

    /* 5. store the states */
    for (int st_index = 0; st_index < s->num_states; ++st_index) {
        for (int row = 0; row < s->rows[st_index]; ++row) {
            const float* values = fresh[slot_of(st_index, row)];
            if (s->mode == BNB_STATE_MODE_32BIT) {
                float* dst = s->values[st_index] + (int64_t)row * n;
                for (int64_t i = 0; i < n; ++i) {
                    if (outcome[i] == APPLIED) dst[i] = values[i]; /* kept: bitwise unchanged */
                }
            } else if (s->mode == BNB_STATE_MODE_8BIT_BLOCKWISE) {
                const int64_t blocks = blocks_of(n);
                for (int64_t b = 0; b < blocks; ++b) {
                    const int64_t begin = b * SPEC_BLOCK;
                    const int64_t end = begin + SPEC_BLOCK < n ? begin + SPEC_BLOCK : n;
                    const float a = absmax_of_range(values, begin, end); /* real elements only */
                    s->absmax[st_index][(int64_t)row * blocks + b] =
                        quantize_range(s, st_index, row, values, begin, end, a);
                }
            } else { /* tensor-wise (§4.4): the pre-pass absmax over all real elements */
                const float a = absmax_of_range(values, 0, n);
                s->absmax[st_index][row] = quantize_range(s, st_index, row, values, 0, n, a);
            }
        }
    }

    for (int q = 0; q < SLOTS; ++q) free(fresh[q]);
    free(u);
    free(outcome);
    free(scratch);
    return nonfinite;
}
