#include "reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ref_adam_step(int decoupled, const ref_hparams* h, int64_t t, int64_t n, double* p, double* m, double* v,
                   const double* g) {
    const double bias_correction1 = 1.0 - pow(h->beta1, (double)t);
    const double bias_correction2 = 1.0 - pow(h->beta2, (double)t);
    const double step_size = h->lr / bias_correction1;
    const double bias_correction2_sqrt = sqrt(bias_correction2);
    for (int64_t i = 0; i < n; ++i) {
        double grad = g[i];
        if (!isfinite(grad)) continue;
        if (decoupled) p[i] *= 1.0 - h->lr * h->weight_decay;
        else if (h->weight_decay != 0.0) grad += h->weight_decay * p[i];
        m[i] = h->beta1 * m[i] + (1.0 - h->beta1) * grad;
        v[i] = h->beta2 * v[i] + (1.0 - h->beta2) * grad * grad;
        const double denom = sqrt(v[i]) / bias_correction2_sqrt + h->eps;
        p[i] -= step_size * m[i] / denom;
    }
}

/* ---- scalar spec driver ------------------------------------------------------------------------- */

static float g_maps[2][256]; /* [0] signed (m), [1] unsigned (v) */
static int g_maps_loaded = 0;

static void load_maps(void) {
    if (g_maps_loaded) return;
    if (bnb_qmap_copy(BNB_QMAP_SIGNED, g_maps[0]) != BNB_OK) abort();
    if (bnb_qmap_copy(BNB_QMAP_UNSIGNED, g_maps[1]) != BNB_OK) abort();
    g_maps_loaded = 1;
}

static int64_t blocks_of(int64_t n) { return (n + 255) / 256; }

void spec_param_init(spec_param* s, int64_t n, bnb_state_mode mode) {
    load_maps();
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->n = n;
    const size_t count = (size_t)(n > 0 ? n : 1);
    const int64_t absmax_count = mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? blocks_of(n) : 1;
    for (int k = 0; k < 2; ++k) {
        if (mode == BNB_STATE_MODE_32BIT) {
            s->values[k] = calloc(count, sizeof(float));
        } else {
            s->codes[k] = malloc(count);
            memset(s->codes[k], k == 0 ? 127 : 0, count); /* fresh bytes are the zero code z */
            s->absmax[k] = calloc((size_t)(absmax_count > 0 ? absmax_count : 1), sizeof(float));
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

static float absmax_of(const spec_param* s, int k, int64_t i) {
    return s->mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? s->absmax[k][i / 256] : s->absmax[k][0];
}

static float dequant(int k, uint8_t code, float absmax) {
    if (absmax == 0.0f) return 0.0f;
    return g_maps[k][code] * absmax;
}

float spec_state_value(const spec_param* s, int state, int64_t i) {
    if (s->mode == BNB_STATE_MODE_32BIT) return s->values[state][i];
    return dequant(state, s->codes[state][i], absmax_of(s, state, i));
}

uint8_t spec_select(const float* map, float x) {
    if (isnan(x)) return 0;
    if (x <= map[0]) return 0;
    if (x >= map[255]) return 255;
    int k = 0;
    while (!(map[k] <= x && x < map[k + 1])) ++k;
    const float mid = (map[k] + map[k + 1]) * 0.5f;
    if (x > mid) return (uint8_t)(k + 1);
    if (x < mid) return (uint8_t)k;
    return (uint8_t)((k % 2 == 0) ? k : k + 1);
}

static uint8_t spec_quantize(int k, float s_value, float absmax) {
    const float* map = g_maps[k];
    if (absmax < 0x1.0p-126f) return k == 0 ? 127 : 0;
    const float r = 1.0f / absmax;
    uint8_t c = spec_select(map, s_value * r);
    if (k == 0 && !isnan(s_value) && (signbit(map[c]) != 0) != (signbit(s_value) != 0)) {
        c = (uint8_t)(s_value > 0 ? c + 1 : c - 1);
    }
    return c;
}

static float load_value(const test_buffer* b, int64_t i) { return (float)buffer_get(b, i); }

typedef struct spec_scalars {
    float lr, eps, wd, b1, b2, nb1, nb2, ic2, ss, dec;
} spec_scalars;

/* Returns 1 when the element was applied (p and st[] hold new values). */
static int spec_element(bnb_algorithm algorithm, const spec_scalars* k, float gr, float* p, float* st,
                        int64_t* nonfinite) {
    if (!isfinite(gr)) {
        ++*nonfinite;
        return 0;
    }
    float g = 1.0f * gr;
    float pf = *p;
    if (algorithm == BNB_ALGO_ADAMW) {
        if (k->wd != 0.0f) pf = pf * k->dec;
    } else if (k->wd != 0.0f) {
        g = g + k->wd * pf;
    }
    const float m = k->b1 * st[0] + k->nb1 * g;
    const float v = k->b2 * st[1] + k->nb2 * (g * g);
    pf = pf - k->ss * (m / (sqrtf(v) * k->ic2 + k->eps));
    *p = pf;
    st[0] = m;
    st[1] = v;
    return 1;
}

int64_t spec_adam_step(bnb_algorithm algorithm, const ref_hparams* h, spec_param* s, test_buffer* param,
                       const test_buffer* grad) {
    const int64_t t = ++s->t;
    spec_scalars k;
    k.lr = (float)h->lr;
    k.eps = (float)h->eps;
    k.wd = (float)h->weight_decay;
    k.b1 = (float)h->beta1;
    k.b2 = (float)h->beta2;
    k.nb1 = (float)(1.0 - h->beta1);
    k.nb2 = (float)(1.0 - h->beta2);
    k.ic2 = (float)(1.0 / sqrt(1.0 - pow(h->beta2, (double)t)));
    k.ss = (float)(h->lr / (1.0 - pow(h->beta1, (double)t)));
    k.dec = (float)(1.0 - h->lr * h->weight_decay);
    int64_t nonfinite = 0;
    const int64_t n = s->n;

    if (s->mode == BNB_STATE_MODE_32BIT) {
        for (int64_t i = 0; i < n; ++i) {
            float p = load_value(param, i);
            float st[2] = {s->values[0][i], s->values[1][i]};
            if (spec_element(algorithm, &k, load_value(grad, i), &p, st, &nonfinite)) {
                buffer_set(param, i, (double)p);
                s->values[0][i] = st[0];
                s->values[1][i] = st[1];
            }
        }
        return nonfinite;
    }

    /* 8-bit: new fp32 values of every element first, then absmax per block (or tensor), then codes. */
    float* new_p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    float* new_s[2];
    unsigned char* applied = malloc((size_t)(n > 0 ? n : 1));
    for (int j = 0; j < 2; ++j) new_s[j] = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; ++i) {
        float p = load_value(param, i);
        float st[2] = {spec_state_value(s, 0, i), spec_state_value(s, 1, i)};
        applied[i] = (unsigned char)spec_element(algorithm, &k, load_value(grad, i), &p, st, &nonfinite);
        new_p[i] = p;
        new_s[0][i] = st[0];
        new_s[1][i] = st[1];
    }
    const int64_t groups = s->mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? blocks_of(n) : 1;
    const int64_t group_size = s->mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? 256 : (n > 0 ? n : 1);
    for (int j = 0; j < 2; ++j) {
        for (int64_t b = 0; b < groups; ++b) {
            const int64_t begin = b * group_size;
            const int64_t end = begin + group_size < n ? begin + group_size : n;
            float a = 0.0f;
            for (int64_t i = begin; i < end; ++i) a = fmaxf(a, fabsf(new_s[j][i]));
            const float stored = a < 0x1.0p-126f ? 0.0f : a;
            for (int64_t i = begin; i < end; ++i) s->codes[j][i] = spec_quantize(j, new_s[j][i], stored);
            s->absmax[j][b] = stored;
        }
    }
    for (int64_t i = 0; i < n; ++i) {
        if (applied[i]) buffer_set(param, i, (double)new_p[i]);
    }
    free(new_p);
    free(applied);
    free(new_s[0]);
    free(new_s[1]);
    return nonfinite;
}
