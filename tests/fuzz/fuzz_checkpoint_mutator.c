#define _GNU_SOURCE
/* Structure-aware mutator for the checkpoint loader's fuzzer (issue 13). Linked with the loader target
 * of fuzz_checkpoint_load.c into fuzz_checkpoint_structured: libFuzzer calls LLVMFuzzerCustomMutator
 * instead of its byte mutations. An input that parses as a safetensors file (support/checkpoint_edit.h)
 * gets one to three edits of its structure: metadata values (step counters, element counts, dtypes,
 * modes, groups, hyper-parameters, format_version, ...) set to boundary values or nudged, metadata keys
 * removed, renamed or added, tensor dtypes, shapes, names and sizes changed, tensor bytes flipped or set
 * to special floats (absmax, maps, fp32 states, clipping histories), or the data offsets of the written
 * header moved. The file is then written with every checksum recomputed, so the input is one an
 * attacker could craft: it passes the checksum checks of a production build too (fuzz builds do not
 * compare them anyway, Note [fuzzing checksums]). Anything that does not parse, and one input in
 * sixteen, gets libFuzzer's own byte mutations. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/checkpoint_edit.h"

size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t next(rng* r) { /* splitmix64 */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static size_t below(rng* r, size_t n) { return n == 0 ? 0 : next(r) % n; }

/* Values at the edges of what the loader parses and range-checks. */
static const char* const k_values[] = {
    "0", "1", "-1", "2", "3", "7", "8", "32", "100", "101", "255", "256", "4096", "-0", "0.5", "1.0", "1e-08",
    "9007199254740991", "9007199254740992", "9007199254740993", "9223372036854775807", "-9223372036854775808",
    "18446744073709551615", "18446744073709551616", "2147483647", "-2147483648", "4294967296", "1e308", "-1e308",
    "1e309", "3.4028235e38", "3.5e38", "1e-45", "1e-320", "nan", "NaN", "inf", "-inf", "Infinity", " 1", "1 ",
    "01", "+1", "0x10", "1e2", "", " ", "true", "null", "\"", "\\", "1.0.0", "2.0", "1.1", "0.9", "bf16", "f32",
    "f16", "u8", "32bit", "8bit-blockwise", "8bit-tensorwise", "none", "adam", "adamw", "sgd", "lion", "lamb",
    "lars", "rmsprop", "adagrad", "ademamix", "qmap.0", "qmap.1", "qmap.2", "p0.state1", "bnb8.optimizer-state",
};
#define N_VALUES (sizeof k_values / sizeof k_values[0])

static const char* const k_dtypes[] = {"U8", "F32", "F16", "BF16", "I8", "I32", "I64", "F64", "BOOL", "u8", "", "F32 "};
#define N_DTYPES (sizeof k_dtypes / sizeof k_dtypes[0])

static const float k_floats[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e-45f, 1.17549435e-38f, 3.4028235e38f, 1e30f,
                                 -1e30f, 2.0f, 255.0f, 1e-8f};

/* A number nudged: +-1, doubled, negated (NULL when `value` is not a number). */
static int nudge_number(rng* r, const char* value, char* out, size_t out_size) {
    char* end = NULL;
    const double x = strtod(value, &end);
    if (end == value || *end != '\0') return 0;
    const double y = x;
    switch (below(r, 5)) {
    case 0: snprintf(out, out_size, "%.17g", y + 1); break;
    case 1: snprintf(out, out_size, "%.17g", y - 1); break;
    case 2: snprintf(out, out_size, "%.17g", y * 2); break;
    case 3: snprintf(out, out_size, "%.17g", -y); break;
    default: snprintf(out, out_size, "%.17g", nextafter(y, INFINITY)); break;
    }
    return 1;
}

static void mutate_meta_value(rng* r, ckpt* c) {
    const size_t n = ckpt_meta_count(c);
    if (n == 0) return;
    char key[256];
    snprintf(key, sizeof key, "%s", ckpt_meta_key(c, below(r, n)));
    char value[512];
    snprintf(value, sizeof value, "%s", ckpt_meta(c, key));
    char out[512];
    switch (below(r, 3)) {
    case 0: snprintf(out, sizeof out, "%s", k_values[below(r, N_VALUES)]); break;
    case 1:
        if (!nudge_number(r, value, out, sizeof out)) snprintf(out, sizeof out, "%s", k_values[below(r, N_VALUES)]);
        break;
    default: { /* libFuzzer's byte mutations on the value text */
        uint8_t bytes[256];
        size_t len = strlen(value);
        if (len > sizeof bytes - 1) len = sizeof bytes - 1;
        memcpy(bytes, value, len);
        len = LLVMFuzzerMutate(bytes, len, sizeof bytes - 1);
        bytes[len] = '\0';
        for (size_t i = 0; i < len; ++i) { /* printable ASCII: bytes that are not UTF-8 are the byte fuzzer's */
            if (bytes[i] < 0x20 || bytes[i] > 0x7E) bytes[i] = (unsigned char)(0x20 + bytes[i] % 0x5F);
        }
        snprintf(out, sizeof out, "%s", (const char*)bytes);
        break;
    }
    }
    ckpt_set_meta(c, key, out);
}

static void mutate_meta_key(rng* r, ckpt* c) {
    const size_t n = ckpt_meta_count(c);
    if (n == 0) return;
    char key[256], value[512];
    snprintf(key, sizeof key, "%s", ckpt_meta_key(c, below(r, n)));
    snprintf(value, sizeof value, "%s", ckpt_meta(c, key));
    switch (below(r, 4)) {
    case 0: ckpt_remove_meta(c, key); return;
    case 1: { /* another parameter's or group's index: p0.step -> p7.step, group.1.lr -> group.9.lr */
        char* digit = strpbrk(key, "0123456789");
        if (digit != NULL) *digit = (char)('0' + below(r, 10));
        break;
    }
    case 2: { /* a per-parameter override of some hyper-parameter or option */
        static const char* const names[] = {"lr", "beta1", "beta2", "eps", "weight_decay", "optim_bits",
                                            "percentile_clipping", "block_wise", "min_8bit_size", "skip_zeros"};
        snprintf(key, sizeof key, "p%u.override.%s", (unsigned)below(r, 4), names[below(r, 10)]);
        break;
    }
    default: { /* a small change of the key text */
        const size_t len = strlen(key);
        if (len > 0) key[below(r, len)] = "._0az"[below(r, 5)];
        break;
    }
    }
    ckpt_set_meta(c, key, value);
}

static void mutate_tensor_header(rng* r, ckpt* c) {
    const size_t n = ckpt_tensor_count(c);
    if (n == 0) return;
    const size_t i = below(r, n);
    switch (below(r, 5)) {
    case 0: ckpt_tensor_set_dtype(c, i, k_dtypes[below(r, N_DTYPES)]); break;
    case 1: {
        long long dims[4];
        size_t rank = ckpt_tensor_rank(c, i);
        if (rank > 3) rank = 3;
        for (size_t d = 0; d < rank; ++d) dims[d] = ckpt_tensor_dim(c, i, d);
        static const long long edges[] = {0, 1, -1, 255, 256, 257, 4611686018427387904LL, 9223372036854775807LL};
        switch (below(r, 4)) {
        case 0: if (rank > 0) { /* +-1, wrapping at the int64 ends */
            const size_t d = below(r, rank);
            dims[d] = (long long)((unsigned long long)dims[d] + (below(r, 2) ? 1ull : ~0ull));
        }
        break;
        case 1: if (rank > 0) dims[below(r, rank)] = edges[below(r, sizeof edges / sizeof edges[0])]; break;
        case 2: dims[rank++] = (long long)below(r, 3); break; /* one more dimension */
        default: if (rank > 0) --rank; break;                  /* one fewer */
        }
        ckpt_tensor_set_shape(c, i, dims, rank);
        break;
    }
    case 2: {
        char name[128];
        snprintf(name, sizeof name, "%s", ckpt_tensor_name(c, i));
        const size_t len = strlen(name);
        if (len > 0) name[below(r, len)] = "0129._s"[below(r, 7)];
        ckpt_tensor_rename(c, i, name);
        break;
    }
    case 3: ckpt_tensor_remove(c, i); break;
    default: {
        size_t bytes = 0;
        (void)ckpt_tensor_bytes(c, i, &bytes);
        static const int deltas[] = {-4, -1, 1, 4, 256};
        const long long to = (long long)bytes + deltas[below(r, 5)];
        ckpt_tensor_resize(c, i, to < 0 ? 0 : (size_t)to);
        break;
    }
    }
}

static int name_has(const ckpt* c, size_t i, const char* text) { return strstr(ckpt_tensor_name(c, i), text) != NULL; }

static void mutate_tensor_bytes(rng* r, ckpt* c) {
    const size_t n = ckpt_tensor_count(c);
    if (n == 0) return;
    size_t i = below(r, n);
    /* Half the time aim at the tensors whose values are range-checked. */
    if (below(r, 2)) {
        static const char* const targets[] = {"absmax", "qmap", "clip_history", "state2", "state1"};
        const char* target = targets[below(r, 5)];
        for (size_t k = 0, start = below(r, n); k < n; ++k) {
            if (name_has(c, (start + k) % n, target)) {
                i = (start + k) % n;
                break;
            }
        }
    }
    size_t bytes = 0;
    unsigned char* data = ckpt_tensor_bytes(c, i, &bytes);
    if (bytes == 0) return;
    const int is_f32 = strcmp(ckpt_tensor_dtype(c, i), "F32") == 0 && bytes % 4 == 0;
    switch (below(r, 4)) {
    case 0: data[below(r, bytes)] ^= (unsigned char)(1u << below(r, 8)); break;
    case 1:
        if (is_f32) {
            float x;
            const size_t at = below(r, bytes / 4) * 4;
            switch (below(r, 4)) {
            case 0: x = NAN; break;
            case 1: x = below(r, 2) ? INFINITY : -INFINITY; break;
            case 2: memcpy(&x, data + at, 4); x = -x; break;
            default: x = k_floats[below(r, sizeof k_floats / sizeof k_floats[0])]; break;
            }
            memcpy(data + at, &x, 4);
        } else {
            data[below(r, bytes)] = (unsigned char)next(r);
        }
        break;
    case 2: if (is_f32 && bytes >= 8) { /* two neighbours swapped: an unsorted map */
        const size_t at = below(r, bytes / 4 - 1) * 4;
        unsigned char t[4];
        memcpy(t, data + at, 4);
        memmove(data + at, data + at + 4, 4);
        memcpy(data + at + 4, t, 4);
        }
        break;
    default: (void)LLVMFuzzerMutate(data, bytes, bytes); break; /* same length: the shape stays right */
    }
}

/* In the written file, one number of one "data_offsets":[a,b] moved (header length and padding fixed). */
static unsigned char* move_offset(rng* r, unsigned char* file, size_t* size) {
    if (*size < 8) return file;
    uint64_t header = 0;
    for (int k = 0; k < 8; ++k) header |= (uint64_t)file[k] << (8 * k);
    if (header > *size - 8) return file;
    const char* text = (const char*)file + 8;
    const char* hits[64];
    size_t count = 0;
    for (const char* p = text; count < 64;) {
        p = memmem(p, header - (size_t)(p - text), "\"data_offsets\":[", 16);
        if (p == NULL) break;
        hits[count++] = p;
        p += 16;
    }
    if (count == 0) return file;
    const char* at = hits[below(r, count)];
    const char* close = memchr(at, ']', header - (size_t)(at - text));
    if (close == NULL) return file;
    char find[96], replace[96];
    snprintf(find, sizeof find, "%.*s", (int)(close - at + 1), at);
    unsigned long long a = 0, b = 0;
    if (sscanf(find, "\"data_offsets\":[%llu,%llu]", &a, &b) != 2) return file;
    static const long long deltas[] = {-1, 1, -4, 4, -256, 256};
    const long long d = deltas[below(r, 6)];
    if (below(r, 2)) a += (unsigned long long)d;
    else b += (unsigned long long)d;
    if (below(r, 8) == 0) a = b; /* an empty range */
    snprintf(replace, sizeof replace, "\"data_offsets\":[%llu,%llu]", a, b);
    size_t out_size = 0;
    unsigned char* out = ckpt_header_replace(file, *size, find, replace, &out_size);
    if (out == NULL) return file;
    free(file);
    *size = out_size;
    return out;
}

size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
    rng r = {seed * 0x2545F4914F6CDD1Dull + 1};
    ckpt* c = below(&r, 16) == 0 ? NULL : ckpt_parse(data, size);
    if (c == NULL) return LLVMFuzzerMutate(data, size, max_size);
    const size_t edits = 1 + below(&r, 3);
    int offsets = 0;
    for (size_t e = 0; e < edits; ++e) {
        switch (below(&r, 8)) {
        case 0: case 1: case 2: mutate_meta_value(&r, c); break;
        case 3: mutate_meta_key(&r, c); break;
        case 4: mutate_tensor_header(&r, c); break;
        case 5: case 6: mutate_tensor_bytes(&r, c); break;
        default: offsets = 1; break;
        }
    }
    size_t out_size = 0;
    unsigned char* out = ckpt_write(c, &out_size);
    ckpt_free(c);
    if (offsets) out = move_offset(&r, out, &out_size);
    if (out_size > max_size) {
        free(out);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    memcpy(data, out, out_size);
    free(out);
    return out_size;
}
