#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t* x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rng_seed(test_rng* rng, uint64_t seed) {
    for (int i = 0; i < 4; ++i) rng->s[i] = splitmix64(&seed);
    rng->has_spare = 0;
    rng->spare = 0.0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(test_rng* rng) {
    uint64_t* s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(test_rng* rng) { return (double)(rng_next(rng) >> 11) * 0x1.0p-53; }

/* Marsaglia's polar method: two normals per accepted pair, no trigonometry. */
double rng_normal(test_rng* rng) {
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare;
    }
    double u, v, r2;
    do {
        u = 2.0 * rng_uniform(rng) - 1.0;
        v = 2.0 * rng_uniform(rng) - 1.0;
        r2 = u * u + v * v;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double scale = sqrt(-2.0 * log(r2) / r2);
    rng->spare = v * scale;
    rng->has_spare = 1;
    return u * scale;
}

static double pow2(int e) { /* 2^e for -1022 <= e <= 1023, built from its bit pattern */
    const uint64_t bits = (uint64_t)(e + 1023) << 52;
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Rounds x to a binary format with `mant_bits` fraction bits, smallest normal exponent `min_exp` (below
 * it the quantum stays 2^(min_exp - mant_bits): subnormals) and overflow `threshold` (the largest finite
 * value plus half its ulp: at or beyond it the result is +-Inf, ties going to Inf, the even side). Double
 * arithmetic only: x / quantum is exact and rint rounds half to even. */
static double round_format(double x, int mant_bits, int min_exp, double threshold) {
    if (isnan(x) || isinf(x) || x == 0.0) return x;
    if (fabs(x) >= threshold) return x > 0 ? INFINITY : -INFINITY;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int exponent = (int)((bits >> 52) & 0x7FF) - 1023; /* floor(log2 |x|) for normal doubles */
    if (exponent < min_exp) exponent = min_exp;
    const int quantum_exp = exponent - mant_bits;
    return rint(x * pow2(-quantum_exp)) * pow2(quantum_exp);
}

double round_to_dtype(double x, bnb_dtype dtype) {
    switch (dtype) {
        case BNB_DTYPE_F32: return (double)(float)x;
        case BNB_DTYPE_F16: return round_format(x, 10, -14, 65504.0 + 16.0);
        case BNB_DTYPE_BF16: return round_format(x, 7, -126, 0x1.FEp127 + 0x1.0p119);
    }
    return x;
}

uint16_t dtype_bits16(double x, bnb_dtype dtype) {
    if (isnan(x)) return 0x7FFF;
    const double r = round_to_dtype(x, dtype);
    const uint16_t sign = signbit(r) ? 0x8000 : 0;
    const double a = fabs(r);
    if (dtype == BNB_DTYPE_BF16) {
        /* bf16 is the upper half of the binary32 pattern of r, which is exactly representable. */
        return (uint16_t)(f32_to_bits((float)r) >> 16);
    }
    if (isinf(a)) return sign | 0x7C00;
    if (a < 0x1.0p-14) return (uint16_t)(sign | (uint16_t)(a / 0x1.0p-24)); /* subnormal or zero */
    int e;
    const double f = frexp(a, &e); /* a = f * 2^e, f in [0.5, 1) */
    const uint16_t exp_field = (uint16_t)(e - 1 + 15);
    const uint16_t mant = (uint16_t)((f * 2.0 - 1.0) * 1024.0);
    return (uint16_t)(sign | (exp_field << 10) | mant);
}

double bits16_value(uint16_t bits, bnb_dtype dtype) {
    if (dtype == BNB_DTYPE_BF16) return (double)bits_to_f32((uint32_t)bits << 16);
    const int sign = (bits >> 15) & 1;
    const int exp_field = (bits >> 10) & 0x1F;
    const int mant = bits & 0x3FF;
    double value;
    if (exp_field == 0x1F) value = mant ? NAN : INFINITY;
    else if (exp_field == 0) value = ldexp((double)mant, -24);
    else value = ldexp(1.0 + mant / 1024.0, exp_field - 15);
    return sign ? -value : value;
}

float bits_to_f32(uint32_t bits) {
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

uint32_t f32_to_bits(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

int dtype_bytes(bnb_dtype dtype) { return dtype == BNB_DTYPE_F32 ? 4 : 2; }

const char* dtype_label(bnb_dtype dtype) {
    switch (dtype) {
        case BNB_DTYPE_F32: return "f32";
        case BNB_DTYPE_F16: return "f16";
        case BNB_DTYPE_BF16: return "bf16";
    }
    return "?";
}

test_buffer buffer_alloc(int64_t numel, bnb_dtype dtype) {
    test_buffer b;
    b.numel = numel;
    b.dtype = dtype;
    b.data = calloc((size_t)(numel > 0 ? numel : 1), (size_t)dtype_bytes(dtype));
    return b;
}

void buffer_free(test_buffer* b) {
    free(b->data);
    b->data = NULL;
}

bnb_tensor buffer_tensor(const test_buffer* b) {
    bnb_tensor t;
    t.data = b->data;
    t.numel = b->numel;
    t.dtype = b->dtype;
    t.device = BNB_DEVICE_CPU;
    return t;
}

/* Every fp16 value, decoded once by bits16_value: buffer_get runs in the tests' inner loops. */
static const double* f16_table(void) {
    static double table[65536];
    static int ready = 0;
    if (!ready) {
        for (uint32_t bits = 0; bits < 65536; ++bits) table[bits] = bits16_value((uint16_t)bits, BNB_DTYPE_F16);
        ready = 1;
    }
    return table;
}

double buffer_get(const test_buffer* b, int64_t i) {
    switch (b->dtype) {
        case BNB_DTYPE_F32: return (double)((const float*)b->data)[i];
        case BNB_DTYPE_F16: return f16_table()[((const uint16_t*)b->data)[i]];
        case BNB_DTYPE_BF16: return (double)bits_to_f32((uint32_t)((const uint16_t*)b->data)[i] << 16);
    }
    return 0.0;
}

void buffer_set(test_buffer* b, int64_t i, double value) {
    if (b->dtype == BNB_DTYPE_F32) ((float*)b->data)[i] = (float)value;
    else ((uint16_t*)b->data)[i] = dtype_bits16(value, b->dtype);
}

int buffer_equal_bits(const test_buffer* a, const test_buffer* b) {
    return a->numel == b->numel && a->dtype == b->dtype &&
           memcmp(a->data, b->data, (size_t)a->numel * (size_t)dtype_bytes(a->dtype)) == 0;
}

void buffer_copy(test_buffer* dst, const test_buffer* src) {
    memcpy(dst->data, src->data, (size_t)src->numel * (size_t)dtype_bytes(src->dtype));
}

int is_close(double a, double b, double atol, double rtol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (a == b) return 1;
    return fabs(a - b) <= atol + rtol * fabs(b);
}
