#define _GNU_SOURCE
/* The bad-argument sweep (issue 13): every function bnb8.h exports is called with one argument made bad
 * at a time (NULL pointers, out-of-range enums, indices and counts, misaligned data, buffers one element
 * short, struct sizes below the smallest struct, paths that are not files, hostile bytes). Each case runs
 * in a forked child with an alarm, so a crash, an abort or a hang is a failure reported with the case's
 * name. A case passes when the call returns the error bnb8.h promises, the thread-local message names
 * the bad argument, and the failed call changed nothing: the optimizer serializes to the same bytes
 * (support/refusal.h), every buffer handed to the call is as it was, the bound parameters and gradients
 * are untouched, and the next step of the victim equals, bit for bit, the step of a twin built the same
 * way that never saw the bad call (that also catches a changed binding or override). The header says
 * nothing about destroyed handles (like free(), a destroyed handle is the caller's bug), so those are not
 * tried; NULL handles are.
 *
 * The list of exports is read from bnb8.h at run time (argv[1], the pattern of check_exports.cmake): an
 * export without a case here fails the test, and so does a case naming no export.
 *
 * Each case is a row: the export, the call that builds the arguments, a label "arg=value ..." that says
 * which arguments differ from a valid call, the status expected and the text the message must contain
 * (by default the first mutated argument's name). The call functions read the label through a_*()
 * accessors, so a row is data. Every export also has a "valid" row: its call succeeds unchanged, which
 * shows that the other rows fail for their bad argument and not for a broken harness. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bnb8.h"
#include "support/refusal.h"
#include "support/test_util.h"

/* ---- labels: "name=value name=value" ------------------------------------------------------------ */

#define MAX_MUTATIONS 4

typedef struct mutation {
    char name[64];
    char value[96];
} mutation;

typedef struct mutations {
    int count;
    mutation m[MAX_MUTATIONS];
} mutations;

static void parse_label(const char* label, mutations* out) {
    out->count = 0;
    const char* p = label;
    while (*p != '\0' && out->count < MAX_MUTATIONS) {
        while (*p == ' ') ++p;
        if (*p == '\0') break;
        const char* end = strchr(p, ' ');
        if (end == NULL) end = p + strlen(p);
        const char* eq = memchr(p, '=', (size_t)(end - p));
        mutation* m = &out->m[out->count++];
        const size_t name_len = eq != NULL ? (size_t)(eq - p) : (size_t)(end - p);
        snprintf(m->name, sizeof m->name, "%.*s", (int)name_len, p);
        if (eq != NULL) snprintf(m->value, sizeof m->value, "%.*s", (int)(end - eq - 1), eq + 1);
        else m->value[0] = '\0';
        p = end;
    }
}

static const char* find_value(const mutations* ms, const char* name) {
    for (int i = 0; i < ms->count; ++i) {
        if (strcmp(ms->m[i].name, name) == 0) return ms->m[i].value;
    }
    return NULL;
}

static int64_t parse_i64(const char* v) {
    if (strcmp(v, "MAX") == 0) return INT64_MAX;
    if (strcmp(v, "MIN") == 0) return INT64_MIN;
    return strtoll(v, NULL, 0);
}

static int64_t a_i64(const mutations* ms, const char* name, int64_t fallback) {
    const char* v = find_value(ms, name);
    return v != NULL ? parse_i64(v) : fallback;
}

static int32_t a_i32(const mutations* ms, const char* name, int32_t fallback) {
    const char* v = find_value(ms, name);
    if (v == NULL) return fallback;
    if (strcmp(v, "MAX") == 0) return INT32_MAX;
    if (strcmp(v, "MIN") == 0) return INT32_MIN;
    return (int32_t)strtol(v, NULL, 0);
}

static size_t a_size(const mutations* ms, const char* name, size_t fallback) {
    const char* v = find_value(ms, name);
    if (v == NULL) return fallback;
    if (strcmp(v, "MAX") == 0) return SIZE_MAX;
    return (size_t)strtoull(v, NULL, 0);
}

static double a_f64(const mutations* ms, const char* name, double fallback) {
    const char* v = find_value(ms, name);
    return v != NULL ? strtod(v, NULL) : fallback;
}

static int a_is(const mutations* ms, const char* name, const char* value) {
    const char* v = find_value(ms, name);
    return v != NULL && strcmp(v, value) == 0;
}

/* ---- guarded buffers ----------------------------------------------------------------------------- */
/* Every buffer a call gets ends at a PROT_NONE page, so one byte written or read past it is a SIGSEGV,
 * and its bytes are recorded just before the call (seal) and compared after a refusal. */

#define MAX_BUFFERS 16

typedef struct guarded {
    unsigned char* map;
    size_t map_size;
    unsigned char* data;
    size_t bytes;
    unsigned char* sealed;
} guarded;

typedef struct buffers {
    int count;
    guarded b[MAX_BUFFERS];
} buffers;

static buffers g_buffers;

static void die(const char* what) {
    fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
    _exit(3);
}

/* `bytes` bytes ending at a guard page, as close to it as `align` allows (exactly at it when `bytes` is
 * a multiple of `align`: one element past the end is a SIGSEGV); `misaligned` starts them one byte past
 * an aligned address instead. */
static void* guarded_alloc(size_t bytes, size_t align, int misaligned) {
    if (g_buffers.count == MAX_BUFFERS) die("too many buffers");
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t room = bytes + 2 * align + 8;
    const size_t pages = (room + page - 1) / page;
    unsigned char* map = mmap(NULL, (pages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) die("mmap");
    if (mprotect(map + pages * page, page, PROT_NONE) != 0) die("mprotect");
    guarded* g = &g_buffers.b[g_buffers.count++];
    g->map = map;
    g->map_size = (pages + 1) * page;
    uintptr_t start = (uintptr_t)(map + pages * page - bytes);
    start -= start % align;
    if (misaligned) start = start - align + 1;
    g->data = (unsigned char*)start;
    g->bytes = bytes;
    g->sealed = NULL;
    memset(map, 0xA5, pages * page);
    return g->data;
}

static void seal(void) {
    for (int i = 0; i < g_buffers.count; ++i) {
        guarded* g = &g_buffers.b[i];
        g->sealed = malloc(g->bytes ? g->bytes : 1);
        memcpy(g->sealed, g->data, g->bytes);
    }
}

static int buffers_unchanged(char* why, size_t why_size) {
    for (int i = 0; i < g_buffers.count; ++i) {
        const guarded* g = &g_buffers.b[i];
        if (g->sealed != NULL && memcmp(g->sealed, g->data, g->bytes) != 0) {
            snprintf(why, why_size, "the refused call wrote into argument buffer %d (%zu bytes)", i, g->bytes);
            return 0;
        }
    }
    return 1;
}

/* A pointer argument: a guarded buffer of `bytes`, or NULL / misaligned when the label says so. */
static void* a_buffer(const mutations* ms, const char* name, size_t bytes, size_t align) {
    if (a_is(ms, name, "NULL")) return NULL;
    if (a_is(ms, name, "MISALIGNED")) return guarded_alloc(bytes, align, align > 1);
    return guarded_alloc(bytes, align, 0);
}

/* A C string ending (with its NUL) exactly at a guard page: the library must not read past it. */
static const char* guarded_string(const char* text) {
    const size_t n = strlen(text) + 1;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t pages = (n + page - 1) / page;
    unsigned char* map = mmap(NULL, (pages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) die("mmap");
    if (mprotect(map + pages * page, page, PROT_NONE) != 0) die("mprotect");
    char* s = (char*)map + pages * page - n;
    memcpy(s, text, n);
    return s;
}

/* ---- the fixture ---------------------------------------------------------------------------------- */
/* Adam, 8-bit block-wise states, two groups and three parameters, stepped twice:
 *   p0  600 x F32 in group 0, percentile clipping 95 (8-bit, a partial last block, a history);
 *   p1  300 x BF16 in group 1, optim_bits overridden to 32 (fp32 states);
 *   p2  100 x F32 in group 0 without a gradient (never stepped).
 * The victim gets the bad call; the twin is built the same way and does not. */

#define P0_N 600
#define P1_N 300
#define P2_N 100

typedef struct side {
    bnb_optimizer* opt;
    test_buffer param[3], grad[3];
} side;

typedef struct env {
    side victim, twin;
    bnb_optimizer* empty; /* created, no parameter */
    char dir[64];         /* a private folder for files, in g_base_dir */
    char ckpt_path[128];  /* the victim's checkpoint, saved there */
    char empty_path[128]; /* the empty optimizer's checkpoint */
    unsigned char* param_before[3];
    unsigned char* grad_before[3];
} env;

static void must(bnb_status s, const char* what) {
    if (s != BNB_OK) {
        fprintf(stderr, "harness: %s failed: %d %s\n", what, (int)s, bnb_last_error_message());
        _exit(3);
    }
}

static bnb_optimizer_config fixture_config(void) {
    bnb_optimizer_config cfg;
    must(bnb_optimizer_config_init(&cfg, BNB_ALGO_ADAM), "config_init");
    cfg.optim_bits = 8;
    cfg.min_8bit_size = 256;
    cfg.num_threads = 1;
    return cfg;
}

static void fill_grads(side* s, int step) {
    test_rng rng;
    rng_seed(&rng, 1000 + (uint64_t)step);
    for (int i = 0; i < 2; ++i) {
        for (int64_t k = 0; k < s->grad[i].numel; ++k) buffer_set(&s->grad[i], k, rng_normal(&rng) * 0.01);
    }
}

static void build_side(side* s) {
    const bnb_optimizer_config cfg = fixture_config();
    must(bnb_optimizer_create(&cfg, &s->opt), "create");
    int64_t group = 0;
    must(bnb_optimizer_add_group(s->opt, &group), "add_group");
    const int64_t numel[3] = {P0_N, P1_N, P2_N};
    const bnb_dtype dtype[3] = {BNB_DTYPE_F32, BNB_DTYPE_BF16, BNB_DTYPE_F32};
    const int64_t groups[3] = {0, 1, 0};
    test_rng rng;
    rng_seed(&rng, 42);
    for (int i = 0; i < 3; ++i) {
        s->param[i] = buffer_alloc(numel[i], dtype[i]);
        s->grad[i] = buffer_alloc(numel[i], dtype[i]);
        for (int64_t k = 0; k < numel[i]; ++k) buffer_set(&s->param[i], k, rng_normal(&rng) * 0.1);
        const bnb_tensor p = buffer_tensor(&s->param[i]);
        const bnb_tensor g = buffer_tensor(&s->grad[i]);
        must(bnb_optimizer_add_param(s->opt, groups[i], &p, i < 2 ? &g : NULL, NULL), "add_param");
    }
    must(bnb_optimizer_set_param_override(s->opt, 0, BNB_OPTION_PERCENTILE_CLIPPING, 95), "clipping override");
    must(bnb_optimizer_set_param_override(s->opt, 1, BNB_OPTION_OPTIM_BITS, 32), "optim_bits override");
    for (int step = 0; step < 2; ++step) {
        fill_grads(s, step);
        must(bnb_step(s->opt), "step");
    }
    fill_grads(s, 2); /* the gradients of the comparison step */
}

static unsigned char* copy_bytes(const test_buffer* b) {
    const size_t n = (size_t)b->numel * (size_t)dtype_bytes(b->dtype);
    unsigned char* out = malloc(n ? n : 1);
    memcpy(out, b->data, n);
    return out;
}

static void save_or_die(const bnb_optimizer* opt, const char* path) { must(bnb_state_save(opt, path), path); }

static char g_base_dir[32]; /* the parent's folder for the children's folders, removed at the end */

static void build_env(env* e) {
    memset(e, 0, sizeof *e);
    build_side(&e->victim);
    build_side(&e->twin);
    const bnb_optimizer_config cfg = fixture_config();
    must(bnb_optimizer_create(&cfg, &e->empty), "create empty");
    snprintf(e->dir, sizeof e->dir, "%s/XXXXXX", g_base_dir);
    if (mkdtemp(e->dir) == NULL) die("mkdtemp");
    snprintf(e->ckpt_path, sizeof e->ckpt_path, "%s/victim.safetensors", e->dir);
    snprintf(e->empty_path, sizeof e->empty_path, "%s/empty.safetensors", e->dir);
    save_or_die(e->victim.opt, e->ckpt_path);
    save_or_die(e->empty, e->empty_path);
    for (int i = 0; i < 3; ++i) {
        e->param_before[i] = copy_bytes(&e->victim.param[i]);
        e->grad_before[i] = copy_bytes(&e->victim.grad[i]);
    }
}

static int remove_entry(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_dir(const char* dir) {
    if (nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* The victim's bound buffers are untouched, and its next step equals the twin's, bit for bit. */
static int victim_behaves_like_twin(env* e, char* why, size_t why_size) {
    for (int i = 0; i < 3; ++i) {
        const size_t n = (size_t)e->victim.param[i].numel * (size_t)dtype_bytes(e->victim.param[i].dtype);
        if (memcmp(e->param_before[i], e->victim.param[i].data, n) != 0 ||
            memcmp(e->grad_before[i], e->victim.grad[i].data, n) != 0) {
            snprintf(why, why_size, "the refused call wrote into parameter %d's bound buffers", i);
            return 0;
        }
    }
    const bnb_status a = bnb_step(e->victim.opt);
    const bnb_status b = bnb_step(e->twin.opt);
    if (a != b) {
        snprintf(why, why_size, "the next step returned %d on the victim and %d on the twin (%s)", (int)a, (int)b,
                 bnb_last_error_message());
        return 0;
    }
    for (int i = 0; i < 3; ++i) {
        if (!buffer_equal_bits(&e->victim.param[i], &e->twin.param[i])) {
            snprintf(why, why_size, "after the next step parameter %d differs from the twin's", i);
            return 0;
        }
    }
    refusal_snapshot twin;
    if (refusal_snapshot_take(e->twin.opt, &twin) != 0) {
        snprintf(why, why_size, "the twin does not serialize");
        return 0;
    }
    /* The twin's bytes as the "before" of a refusal check: the victim must serialize to the same bytes. */
    const char* verdict = refusal_verdict(&twin, e->victim.opt, BNB_ERR_INVALID_ARGUMENT, REFUSAL_ANY_ERROR, NULL);
    if (verdict != NULL && strstr(verdict, "serialized state") != NULL) {
        snprintf(why, why_size, "after the next step the victim's state differs from the twin's");
        refusal_snapshot_free(&twin);
        return 0;
    }
    refusal_snapshot_free(&twin);
    return 1;
}

/* ---- arguments shared by several exports --------------------------------------------------------- */

static bnb_optimizer* a_opt(env* e, const mutations* ms) {
    if (a_is(ms, "optimizer", "NULL")) return NULL;
    if (a_is(ms, "optimizer", "EMPTY")) return e->empty;
    return e->victim.opt;
}

/* A tensor argument built from `base` with the label's changes to it ("param=NULL", "param->numel=-1",
 * "param->data=NULL|MISALIGNED|OTHER_GRAD", ...). `other` is the buffer OTHER_GRAD... tokens name. */
static bnb_tensor* a_tensor(const mutations* ms, const char* name, bnb_tensor* storage, bnb_tensor base,
                            const void* same_as) {
    if (a_is(ms, name, "NULL")) return NULL;
    char field[80];
    *storage = base;
    snprintf(field, sizeof field, "%s->numel", name);
    storage->numel = a_i64(ms, field, base.numel);
    snprintf(field, sizeof field, "%s->dtype", name);
    storage->dtype = a_i32(ms, field, base.dtype);
    snprintf(field, sizeof field, "%s->device", name);
    storage->device = a_i32(ms, field, base.device);
    snprintf(field, sizeof field, "%s->data", name);
    if (a_is(ms, field, "NULL")) storage->data = NULL;
    if (a_is(ms, field, "MISALIGNED")) storage->data = (unsigned char*)storage->data + 1;
    if (a_is(ms, field, "SAME")) storage->data = (void*)same_as;
    return storage;
}

/* Guarded copies of the victim's p0 buffers (the same content, other addresses). */
static bnb_tensor guarded_tensor_like(const test_buffer* b) {
    const size_t n = (size_t)b->numel * (size_t)dtype_bytes(b->dtype);
    void* data = guarded_alloc(n, (size_t)dtype_bytes(b->dtype), 0);
    memcpy(data, b->data, n);
    bnb_tensor t = buffer_tensor(b);
    t.data = data;
    return t;
}

/* A struct argument whose first field is struct_size: "out=NULL", "out->struct_size=N". */
static void* a_sized_out(const mutations* ms, const char* name, size_t bytes) {
    void* p = a_buffer(ms, name, bytes, 8);
    if (p == NULL) return NULL;
    char field[80];
    snprintf(field, sizeof field, "%s->struct_size", name);
    const size_t size = a_size(ms, field, bytes);
    memcpy(p, &size, sizeof size);
    return p;
}

/* After a successful call with a struct_size below the full struct: only struct_size bytes were written
 * (the guarded buffer's bytes past them keep the fill). Returns `status`, or BNB_ERR_INTERNAL with the
 * reason in g_infallible_why. */
static char g_infallible_why[256];

static bnb_status sized_tail_kept(bnb_status status, const void* out, size_t full) {
    if (status != BNB_OK || out == NULL) return status;
    size_t size = 0;
    memcpy(&size, out, sizeof size);
    for (size_t i = size; i < full; ++i) {
        if (((const unsigned char*)out)[i] != 0xA5) {
            snprintf(g_infallible_why, sizeof g_infallible_why,
                     "struct_size = %zu, yet byte %zu of the %zu-byte struct was written", size, i, full);
            return BNB_ERR_INTERNAL;
        }
    }
    return status;
}

/* ---- config fields, by name ---------------------------------------------------------------------- */

typedef enum field_type { F_SIZE, F_I32, F_I64, F_F64, F_PTR } field_type;

typedef struct config_field {
    const char* name;
    size_t offset;
    field_type type;
} config_field;

#define CF(name, type) {#name, offsetof(bnb_optimizer_config, name), type}
static const config_field k_config_fields[] = {
    CF(struct_size, F_SIZE), CF(algorithm, F_I32), CF(optim_bits, F_I32), CF(lr, F_F64), CF(beta1, F_F64),
    CF(beta2, F_F64), CF(eps, F_F64), CF(weight_decay, F_F64), CF(block_wise, F_I32), CF(amsgrad, F_I32),
    CF(min_8bit_size, F_I64), CF(beta3, F_F64), CF(alpha, F_F64), CF(momentum, F_F64), CF(dampening, F_F64),
    CF(t_alpha, F_F64), CF(t_beta3, F_F64), CF(max_unorm, F_F64), CF(lr_decay, F_F64),
    CF(initial_accumulator_value, F_F64), CF(nesterov, F_I32), CF(centered, F_I32), CF(percentile_clipping, F_I32),
    CF(skip_zeros, F_I32), CF(skip_step_on_nonfinite, F_I32), CF(bias_correction, F_I32), CF(adam_w_mode, F_I32),
    CF(paged, F_I32), CF(num_threads, F_I32), CF(cuda_stream, F_PTR),
};
#undef CF
#define N_CONFIG_FIELDS (sizeof k_config_fields / sizeof k_config_fields[0])

static bnb_optimizer_config* a_config(const mutations* ms, const char* name) {
    bnb_optimizer_config* cfg = a_buffer(ms, name, sizeof(bnb_optimizer_config), 8);
    if (cfg == NULL) return NULL;
    *cfg = fixture_config();
    for (size_t f = 0; f < N_CONFIG_FIELDS; ++f) {
        char key[96];
        snprintf(key, sizeof key, "%s->%s", name, k_config_fields[f].name);
        const char* v = find_value(ms, key);
        if (v == NULL) continue;
        unsigned char* at = (unsigned char*)cfg + k_config_fields[f].offset;
        switch (k_config_fields[f].type) {
        case F_SIZE: { const size_t x = a_size(ms, key, 0); memcpy(at, &x, sizeof x); break; }
        case F_I32: { const int32_t x = a_i32(ms, key, 0); memcpy(at, &x, sizeof x); break; }
        case F_I64: { const int64_t x = a_i64(ms, key, 0); memcpy(at, &x, sizeof x); break; }
        case F_F64: { const double x = a_f64(ms, key, 0); memcpy(at, &x, sizeof x); break; }
        case F_PTR: { void* x = (void*)(uintptr_t)a_i64(ms, key, 0); memcpy(at, &x, sizeof x); break; }
        }
    }
    return cfg;
}

/* ---- one call per export ------------------------------------------------------------------------- */
/* Each builds the arguments of a valid call, with the label's changes, seals the buffers and makes the
 * call. Functions without a status return BNB_OK when the contract held and BNB_ERR_INTERNAL (with the
 * reason in g_infallible_why) when it did not. */

typedef bnb_status (*call_fn)(env* e, const mutations* ms);

static bnb_status holds(int condition, const char* why) {
    if (condition) return BNB_OK;
    snprintf(g_infallible_why, sizeof g_infallible_why, "%s", why);
    return BNB_ERR_INTERNAL;
}

static bnb_status c_status_string(env* e, const mutations* ms) {
    (void)e;
    const char* s = bnb_status_string(a_i32(ms, "status", BNB_ERR_IO));
    return holds(s != NULL && s[0] != '\0', "bnb_status_string gave NULL or an empty string");
}

static void* other_thread_message(void* arg) {
    (void)arg;
    return (void*)bnb_last_error_message();
}

static bnb_status c_last_error_message(env* e, const mutations* ms) {
    (void)e;
    if (a_is(ms, "thread", "fresh")) { /* a thread that never failed: a valid string */
        pthread_t t;
        void* result = NULL;
        if (pthread_create(&t, NULL, other_thread_message, NULL) != 0 || pthread_join(t, &result) != 0) die("thread");
        return holds(result != NULL, "NULL message on a fresh thread");
    }
    bnb_optimizer* out = NULL;
    if (bnb_optimizer_create(NULL, &out) == BNB_OK) return holds(0, "create(NULL) succeeded");
    const char* m = bnb_last_error_message();
    return holds(m != NULL && strstr(m, "config") != NULL, "the message after create(NULL) does not name config");
}

static bnb_status c_version_number(env* e, const mutations* ms) {
    (void)e, (void)ms;
    return holds(bnb_version_number() == BNB_VERSION_NUMBER, "bnb_version_number differs from the header");
}

static bnb_status c_version_string(env* e, const mutations* ms) {
    (void)e, (void)ms;
    const char* s = bnb_version_string();
    return holds(s != NULL && strcmp(s, BNB_VERSION_STRING) == 0, "bnb_version_string differs from the header");
}

static bnb_status c_features(env* e, const mutations* ms) {
    (void)e, (void)ms;
    const uint64_t f = bnb_features();
    return holds((f & BNB_FEATURE_CPU) != 0 && (f & ~(BNB_FEATURE_CPU | BNB_FEATURE_CUDA)) == 0,
                 "bnb_features lacks the CPU bit or has unknown bits");
}

static bnb_status c_block_size(env* e, const mutations* ms) {
    (void)e, (void)ms;
    return holds(bnb_block_size() == BNB_BLOCK_SIZE, "bnb_block_size differs from the header");
}

static bnb_status c_qmap_size(env* e, const mutations* ms) {
    (void)e, (void)ms;
    return holds(bnb_qmap_size() == BNB_QMAP_SIZE, "bnb_qmap_size differs from the header");
}

static bnb_status c_state_format_version(env* e, const mutations* ms) {
    (void)e, (void)ms;
    return holds(bnb_state_format_version() == BNB_STATE_FORMAT_VERSION, "bnb_state_format_version differs");
}

static bnb_status c_destroy(env* e, const mutations* ms) {
    /* NULL is a no-op; a valid handle is the empty optimizer (the victim must survive for the checks). */
    bnb_optimizer* opt = a_is(ms, "optimizer", "NULL") ? NULL : e->empty;
    seal();
    bnb_optimizer_destroy(opt);
    if (opt != NULL) e->empty = NULL;
    return BNB_OK;
}

static bnb_status c_config_init_sized(env* e, const mutations* ms) {
    (void)e;
    bnb_optimizer_config* cfg = a_buffer(ms, "config", sizeof(bnb_optimizer_config), 8);
    const size_t size = a_size(ms, "struct_size", sizeof(bnb_optimizer_config));
    const int32_t algorithm = a_i32(ms, "algorithm", BNB_ALGO_ADAM);
    seal();
    const bnb_status status = bnb_optimizer_config_init_sized(cfg, size, algorithm);
    if (status != BNB_OK || cfg == NULL || size >= sizeof *cfg) return status;
    return sized_tail_kept(status, cfg, sizeof *cfg);
}

static bnb_status c_create(env* e, const mutations* ms) {
    (void)e;
    const bnb_optimizer_config* cfg = a_config(ms, "config");
    bnb_optimizer** out = a_buffer(ms, "out", sizeof(bnb_optimizer*), 8);
    seal();
    const bnb_status s = bnb_optimizer_create(cfg, out);
    if (s == BNB_OK) bnb_optimizer_destroy(*out);
    return s;
}

static bnb_status c_get_config(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    bnb_optimizer_config* out = a_sized_out(ms, "out", sizeof(bnb_optimizer_config));
    seal();
    return sized_tail_kept(bnb_optimizer_get_config(opt, out), out, sizeof *out);
}

static bnb_status c_add_group(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    int64_t* out = a_buffer(ms, "out_group", sizeof(int64_t), 8);
    seal();
    return bnb_optimizer_add_group(opt, out);
}

static bnb_status c_group_count(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    int64_t* out = a_buffer(ms, "out_count", sizeof(int64_t), 8);
    seal();
    return bnb_optimizer_group_count(opt, out);
}

static bnb_status c_set_hparam(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const int64_t group = a_i64(ms, "group", 1);
    const int32_t hparam = a_i32(ms, "hparam", BNB_HPARAM_LR);
    const double value = a_f64(ms, "value", 1e-3); /* the value it has: a valid call changes nothing */
    seal();
    return bnb_optimizer_set_hparam(opt, group, hparam, value);
}

static bnb_status c_get_hparam(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    const int64_t group = a_i64(ms, "group", 1);
    const int32_t hparam = a_i32(ms, "hparam", BNB_HPARAM_BETA2);
    double* out = a_buffer(ms, "out_value", sizeof(double), 8);
    seal();
    return bnb_optimizer_get_hparam(opt, group, hparam, out);
}

static bnb_status c_hparam_get_bounds(env* e, const mutations* ms) {
    (void)e;
    const int32_t algorithm = a_i32(ms, "algorithm", BNB_ALGO_ADEMAMIX);
    const int32_t hparam = a_i32(ms, "hparam", BNB_HPARAM_BETA3);
    bnb_hparam_bounds* out = a_buffer(ms, "out", sizeof(bnb_hparam_bounds), 8);
    seal();
    return bnb_hparam_get_bounds(algorithm, hparam, out);
}

static bnb_status c_add_param(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const int64_t group = a_i64(ms, "group", 1);
    test_buffer pb = buffer_alloc(40, BNB_DTYPE_F16);
    test_buffer gb = buffer_alloc(40, BNB_DTYPE_F16);
    const bnb_tensor p0 = guarded_tensor_like(&pb), g0 = guarded_tensor_like(&gb);
    buffer_free(&pb);
    buffer_free(&gb);
    bnb_tensor ps, gs;
    const bnb_tensor* param = a_tensor(ms, "param", &ps, p0, NULL);
    const bnb_tensor* grad = a_tensor(ms, "grad", &gs, g0, p0.data);
    int64_t* out = a_buffer(ms, "out_index", sizeof(int64_t), 8);
    seal();
    return bnb_optimizer_add_param(opt, group, param, grad, out);
}

static bnb_status c_bind_param(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 0);
    const bnb_tensor p0 = guarded_tensor_like(&e->victim.param[0]);
    const bnb_tensor g0 = guarded_tensor_like(&e->victim.grad[0]);
    bnb_tensor ps, gs;
    const bnb_tensor* param = a_tensor(ms, "param", &ps, p0, NULL);
    const bnb_tensor* grad = a_tensor(ms, "grad", &gs, g0, p0.data);
    seal();
    return bnb_optimizer_bind_param(opt, index, param, grad);
}

static bnb_status c_param_count(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    int64_t* out = a_buffer(ms, "out_count", sizeof(int64_t), 8);
    seal();
    return bnb_optimizer_param_count(opt, out);
}

static bnb_status c_param_info(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 0);
    bnb_param_info* out = a_sized_out(ms, "out", sizeof(bnb_param_info));
    seal();
    return sized_tail_kept(bnb_optimizer_param_info(opt, index, out), out, sizeof *out);
}

static bnb_status c_set_param_override(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 0);
    const int32_t key = a_i32(ms, "key", BNB_OPTION_SKIP_ZEROS);
    const double value = a_f64(ms, "value", 0);
    seal();
    return bnb_optimizer_set_param_override(opt, index, key, value);
}

static bnb_status c_clear_param_override(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 0);
    const int32_t key = a_i32(ms, "key", BNB_HPARAM_LR);
    seal();
    return bnb_optimizer_clear_param_override(opt, index, key);
}

static bnb_status c_get_param_setting(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 0);
    const int32_t key = a_i32(ms, "key", BNB_OPTION_PERCENTILE_CLIPPING);
    double* out = a_buffer(ms, "out_value", sizeof(double), 8);
    int32_t* is_override = a_buffer(ms, "out_is_override", sizeof(int32_t), 4);
    seal();
    return bnb_optimizer_get_param_setting(opt, index, key, out, is_override);
}

static bnb_status c_state_view(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 0);
    const int32_t state = a_i32(ms, "state", BNB_STATE2);
    bnb_state_view* out = a_sized_out(ms, "out", sizeof(bnb_state_view));
    seal();
    return sized_tail_kept(bnb_optimizer_state_view(opt, index, state, out), out, sizeof *out);
}

/* A valid bnb_param_state of parameter `index`: guarded copies of the victim's own states (importing
 * them is a valid call that changes no value). Value tokens corrupt one entry of a copy. */
static void* guarded_copy(const void* src, size_t bytes) {
    void* p = guarded_alloc(bytes, 4, 0);
    memcpy(p, src, bytes);
    return p;
}

static bnb_status c_import_param_state(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", a_i64(ms, "of", 0));
    const int64_t of = a_i64(ms, "of", 0); /* the parameter whose states are given */
    bnb_param_info info;
    info.struct_size = sizeof info;
    must(bnb_optimizer_param_info(e->victim.opt, of, &info), "param_info");
    bnb_param_state* s = a_buffer(ms, "state", sizeof(bnb_param_state), 8);
    if (s != NULL) {
        memset(s, 0, sizeof *s);
        s->struct_size = a_size(ms, "state->struct_size", sizeof *s);
        s->step = a_i64(ms, "state->step", info.step);
        s->mode = a_i32(ms, "state->mode", info.state_mode);
        s->num_states = a_i32(ms, "state->num_states", info.num_states);
        for (int k = 0; k < info.num_states; ++k) {
            bnb_state_view v;
            v.struct_size = sizeof v;
            must(bnb_optimizer_state_view(e->victim.opt, of, k + 1, &v), "state_view");
            const size_t n = (size_t)(v.rows * v.numel);
            const size_t data_bytes = n * (v.bits == 8 ? 1u : 4u);
            s->data[k] = guarded_copy(v.data, data_bytes);
            char key[40];
            snprintf(key, sizeof key, "state->data[%d]", k);
            if (a_is(ms, key, "NULL")) s->data[k] = NULL;
            if (v.bits == 32 && a_is(ms, key, "NAN_ENTRY")) ((float*)s->data[k])[n - 1] = NAN;
            if (v.bits == 32 && a_is(ms, key, "NEGATIVE_ENTRY")) ((float*)s->data[k])[n - 1] = -1.0f;
            if (v.bits == 32 && a_is(ms, key, "INF_ENTRY")) ((float*)s->data[k])[0] = INFINITY;
            if (v.bits == 8) {
                const size_t na = (size_t)(v.rows * v.absmax_per_row);
                float* absmax = guarded_copy(v.absmax, na * sizeof(float));
                float* map = guarded_copy(v.qmap, 256 * sizeof(float));
                snprintf(key, sizeof key, "state->absmax[%d]", k);
                if (a_is(ms, key, "NAN_ENTRY")) absmax[na - 1] = NAN;
                if (a_is(ms, key, "INF_ENTRY")) absmax[0] = INFINITY;
                if (a_is(ms, key, "NEGATIVE_ENTRY")) absmax[0] = -1.0f;
                s->absmax[k] = a_is(ms, key, "NULL") ? NULL : absmax;
                snprintf(key, sizeof key, "state->qmap[%d]", k);
                if (a_is(ms, key, "UNSORTED")) { const float t = map[10]; map[10] = map[11]; map[11] = t; }
                if (a_is(ms, key, "NAN_ENTRY")) map[3] = NAN;
                if (a_is(ms, key, "NOT_ENDING_IN_ONE")) map[255] = 0.5f;
                s->qmap[k] = a_is(ms, key, "NULL") ? NULL : map;
            }
        }
        if (info.state_mode != BNB_STATE_MODE_NONE && of == 0) {
            float history[100];
            must(bnb_optimizer_copy_clip_history(e->victim.opt, 0, history, 100), "clip history");
            float* h = guarded_copy(history, sizeof history);
            if (a_is(ms, "state->clip_history", "NAN_ENTRY")) h[0] = NAN;
            if (a_is(ms, "state->clip_history", "NEGATIVE_ENTRY")) h[0] = -1.0f;
            s->clip_history = a_is(ms, "state->clip_history", "NULL") ? NULL : h;
        }
    }
    seal();
    return bnb_optimizer_import_param_state(opt, index, s);
}

static bnb_status c_state_bytes(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    int64_t* out = a_buffer(ms, "out_bytes", sizeof(int64_t), 8);
    seal();
    return bnb_optimizer_state_bytes(opt, out);
}

/* A float output of `count` elements, exactly that long (one past it is the guard page). */
static float* a_floats(const mutations* ms, const char* name, int64_t count, int64_t fallback_count) {
    const int64_t n = count >= 0 && count <= 1 << 20 ? count : fallback_count;
    return a_buffer(ms, name, (size_t)n * sizeof(float), 4);
}

static bnb_status c_copy_state(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 0);
    const int32_t state = a_i32(ms, "state", BNB_STATE1);
    const int64_t count = a_i64(ms, "dst_count", P0_N);
    float* dst = a_floats(ms, "dst", count, P0_N);
    seal();
    return bnb_optimizer_copy_state(opt, index, state, dst, count);
}

static bnb_status c_copy_clip_history(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 0);
    const int64_t count = a_i64(ms, "dst_count", 100);
    float* dst = a_floats(ms, "dst", count, 100);
    seal();
    return bnb_optimizer_copy_clip_history(opt, index, dst, count);
}

static bnb_status c_step(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    seal();
    return bnb_step(opt);
}

static bnb_status c_last_step_info(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    bnb_step_info* out = a_sized_out(ms, "out", sizeof(bnb_step_info));
    seal();
    return sized_tail_kept(bnb_optimizer_last_step_info(opt, out), out, sizeof *out);
}

/* Path tokens: NULL, EMPTY_STRING, NO_DIR (a missing folder), DIR (a folder), FIFO, DEV_ZERO,
 * EMPTY_FILE, EMPTY_CKPT (the empty optimizer's checkpoint), TRUNCATED, TOO_LONG, GUARDED (the valid
 * path ending at a guard page), GUARDED_MISSING (a missing file's name ending at a guard page). */
static const char* a_path(env* e, const mutations* ms, const char* valid) {
    static char text[2 * PATH_MAX + 64];
    const char* v = find_value(ms, "path");
    if (v == NULL) return valid;
    if (strcmp(v, "NULL") == 0) return NULL;
    if (strcmp(v, "EMPTY_STRING") == 0) return "";
    if (strcmp(v, "GUARDED") == 0) return guarded_string(valid);
    snprintf(text, sizeof text, "%s/%s", e->dir, v);
    if (strcmp(v, "NO_DIR") == 0) snprintf(text, sizeof text, "%s/no/such/folder/x.safetensors", e->dir);
    if (strcmp(v, "DIR") == 0) {
        if (mkdir(text, 0700) != 0) die("mkdir");
    }
    if (strcmp(v, "FIFO") == 0) {
        if (mkfifo(text, 0600) != 0) die("mkfifo");
    }
    if (strcmp(v, "DEV_ZERO") == 0) return "/dev/zero";
    if (strcmp(v, "EMPTY_FILE") == 0) {
        const int fd = open(text, O_CREAT | O_WRONLY | O_TRUNC, 0600);
        if (fd < 0) die("open");
        close(fd);
    }
    if (strcmp(v, "EMPTY_CKPT") == 0) return e->empty_path;
    if (strcmp(v, "TRUNCATED") == 0) {
        struct stat st;
        if (stat(e->ckpt_path, &st) != 0) die("stat");
        if (truncate(e->ckpt_path, st.st_size - 1) != 0) die("truncate");
        return e->ckpt_path;
    }
    if (strcmp(v, "TOO_LONG") == 0) {
        const size_t n = strlen(e->dir);
        memcpy(text, e->dir, n);
        text[n] = '/';
        memset(text + n + 1, 'a', 2 * PATH_MAX);
        text[n + 1 + 2 * PATH_MAX] = '\0';
    }
    if (strcmp(v, "GUARDED_MISSING") == 0) return guarded_string(text);
    return text;
}

static bnb_status c_state_save(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    char valid[160];
    snprintf(valid, sizeof valid, "%s/saved.safetensors", e->dir);
    const char* path = a_path(e, ms, valid);
    seal();
    return bnb_state_save(opt, path);
}

static bnb_status c_state_load(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const char* path = a_path(e, ms, e->ckpt_path);
    seal();
    return bnb_state_load(opt, path);
}

static bnb_status c_serialized_size(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    size_t* out = a_buffer(ms, "out_size", sizeof(size_t), 8);
    seal();
    return bnb_state_serialized_size(opt, out);
}

static size_t victim_size(env* e) {
    size_t n = 0;
    must(bnb_state_serialized_size(e->victim.opt, &n), "serialized_size");
    return n;
}

static bnb_status c_save_to_buffer(env* e, const mutations* ms) {
    const bnb_optimizer* opt = a_opt(e, ms);
    const size_t full = victim_size(e);
    size_t capacity = a_size(ms, "capacity", full);
    if (a_is(ms, "capacity", "SIZE-1")) capacity = full - 1;
    void* dst = a_buffer(ms, "dst", capacity < full ? capacity : full, 8);
    size_t* written = a_buffer(ms, "out_written", sizeof(size_t), 8);
    seal();
    return bnb_state_save_to_buffer(opt, dst, capacity, written);
}

static bnb_status c_load_from_buffer(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const size_t full = victim_size(e);
    unsigned char* file = malloc(full);
    must(bnb_state_save_to_buffer(e->victim.opt, file, full, NULL), "save_to_buffer");
    size_t size = a_size(ms, "size", full);
    if (a_is(ms, "size", "SIZE-1")) size = full - 1;
    if (a_is(ms, "size", "SIZE+1")) size = full + 1;
    unsigned char* src = a_buffer(ms, "src", size, 1); /* exactly `size` readable bytes */
    if (src != NULL) {
        memcpy(src, file, size < full ? size : full);
        if (size > full) src[full] = 0;
        if (a_is(ms, "src", "EMPTY_CKPT")) { /* the empty optimizer's checkpoint: does not fit */
            size_t n = 0;
            must(bnb_state_serialized_size(e->empty, &n), "empty size");
            src = a_buffer(ms, "", n, 1);
            must(bnb_state_save_to_buffer(e->empty, src, n, NULL), "empty save");
            size = n;
        }
        if (a_is(ms, "src", "NOISE")) {
            test_rng rng;
            rng_seed(&rng, 5);
            for (size_t i = 0; i < size; ++i) src[i] = (unsigned char)rng_next(&rng);
        }
        if (a_is(ms, "src", "HUGE_HEADER_LENGTH")) memset(src, 0xFF, 8);
    }
    free(file);
    seal();
    return bnb_state_load_from_buffer(opt, src, size);
}

static bnb_status c_qmap_copy(env* e, const mutations* ms) {
    (void)e;
    const int32_t kind = a_i32(ms, "kind", BNB_QMAP_UNSIGNED);
    float* dst = a_buffer(ms, "dst", 256 * sizeof(float), 4);
    seal();
    return bnb_qmap_copy(kind, dst);
}

/* Quantization arguments: 300 elements (two blocks of 256, or three of 128 in the _ex forms). */
#define Q_N 300

static bnb_tensor q_tensor(bnb_dtype dtype) {
    test_buffer b = buffer_alloc(Q_N, dtype);
    test_rng rng;
    rng_seed(&rng, 3);
    for (int64_t k = 0; k < Q_N; ++k) buffer_set(&b, k, rng_normal(&rng));
    const bnb_tensor t = guarded_tensor_like(&b);
    buffer_free(&b);
    return t;
}

static const float* a_map(const mutations* ms) {
    float* map = a_buffer(ms, "map", 256 * sizeof(float), 4);
    if (map == NULL) return NULL;
    must(bnb_qmap_copy(BNB_QMAP_SIGNED, map), "qmap_copy");
    if (a_is(ms, "map", "UNSORTED")) { const float t = map[20]; map[20] = map[21]; map[21] = t; }
    if (a_is(ms, "map", "NAN_ENTRY")) map[5] = NAN;
    if (a_is(ms, "map", "INF_ENTRY")) map[255] = INFINITY;
    if (a_is(ms, "map", "NO_ZERO")) map[127] = 1e-7f;
    if (a_is(ms, "map", "ALL_ZERO")) memset(map, 0, 256 * sizeof(float));
    return map;
}

static bnb_status c_quantize(env* e, const mutations* ms, int ex) {
    (void)e;
    const int32_t kind = a_i32(ms, "kind", BNB_QMAP_SIGNED);
    const float* map = ex ? a_map(ms) : NULL;
    const int64_t block = a_i64(ms, "block_size", 128);
    bnb_tensor storage;
    const bnb_tensor* src = a_tensor(ms, "src", &storage, q_tensor(BNB_DTYPE_BF16), NULL);
    uint8_t* codes = a_buffer(ms, "codes", Q_N, 1);
    const int64_t blocks = ex ? (Q_N + block - 1) / (block > 0 ? block : 1) : (Q_N + 255) / 256;
    float* absmax = a_buffer(ms, "absmax", (size_t)blocks * sizeof(float), 4);
    seal();
    return ex ? bnb_quantize_blockwise_ex(map, src, block, codes, absmax)
              : bnb_quantize_blockwise(kind, src, codes, absmax);
}

static bnb_status c_dequantize(env* e, const mutations* ms, int ex) {
    (void)e;
    const int32_t kind = a_i32(ms, "kind", BNB_QMAP_SIGNED);
    const float* map = ex ? a_map(ms) : NULL;
    const int64_t block = a_i64(ms, "block_size", 128);
    uint8_t* codes = a_buffer(ms, "codes", Q_N, 1);
    if (codes != NULL) {
        for (int i = 0; i < Q_N; ++i) codes[i] = (uint8_t)(i * 7);
    }
    const int64_t blocks = ex ? (Q_N + block - 1) / (block > 0 ? block : 1) : (Q_N + 255) / 256;
    float* absmax = a_buffer(ms, "absmax", (size_t)blocks * sizeof(float), 4);
    if (absmax != NULL) {
        for (int64_t i = 0; i < blocks; ++i) absmax[i] = 0.5f + (float)i;
    }
    bnb_tensor storage;
    bnb_tensor* dst = a_tensor(ms, "dst", &storage, q_tensor(BNB_DTYPE_F16), NULL);
    seal();
    return ex ? bnb_dequantize_blockwise_ex(map, codes, absmax, block, dst)
              : bnb_dequantize_blockwise(kind, codes, absmax, dst);
}

static bnb_status c_quantize_blockwise(env* e, const mutations* ms) { return c_quantize(e, ms, 0); }
static bnb_status c_quantize_blockwise_ex(env* e, const mutations* ms) { return c_quantize(e, ms, 1); }
static bnb_status c_dequantize_blockwise(env* e, const mutations* ms) { return c_dequantize(e, ms, 0); }
static bnb_status c_dequantize_blockwise_ex(env* e, const mutations* ms) { return c_dequantize(e, ms, 1); }

static bnb_status c_cuda_device_count(env* e, const mutations* ms) {
    (void)e;
    int32_t* out = a_buffer(ms, "out_count", sizeof(int32_t), 4);
    seal();
    return bnb_cuda_device_count(out);
}

static bnb_status c_step_on_stream(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    seal();
    return bnb_step_on_stream(opt, NULL);
}

static bnb_status c_synchronize(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    seal();
    return bnb_optimizer_synchronize(opt);
}

static bnb_status c_set_amp_hooks(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    /* HOST: a host pointer, which is never device memory. */
    const float* scale = a_is(ms, "grad_scale", "HOST") ? guarded_alloc(sizeof(float), 4, 0) : NULL;
    const float* found = a_is(ms, "found_inf", "HOST") ? guarded_alloc(sizeof(float), 4, 0) : NULL;
    seal();
    return bnb_optimizer_set_amp_hooks(opt, scale, found);
}

static bnb_status c_state_location(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    const int64_t index = a_i64(ms, "index", 1);
    bnb_state_location* out = a_sized_out(ms, "out", sizeof(bnb_state_location));
    seal();
    return sized_tail_kept(bnb_optimizer_state_location(opt, index, out), out, sizeof *out);
}

static bnb_status c_page_out_states(env* e, const mutations* ms) {
    bnb_optimizer* opt = a_opt(e, ms);
    seal();
    return bnb_optimizer_page_out_states(opt);
}

/* ---- the table ----------------------------------------------------------------------------------- */

/* Expectations beyond bnb_status values. */
#define ANY_ERROR REFUSAL_ANY_ERROR /* an error status, the header leaves which to the library */
#define HOLDS (-2)                  /* an infallible function: the call checks its own contract */

/* Which builds a row applies to. */
enum { ALL_BUILDS = 0, CPU_ONLY_BUILD = 1, CUDA_BUILD = 2 };

typedef struct row {
    const char* function;
    call_fn call;
    const char* label;  /* "" = the valid call */
    int expected;       /* bnb_status, ANY_ERROR or HOLDS */
    const char* needle; /* NULL: the first mutated argument's name */
    int builds;
} row;

#define INVAL BNB_ERR_INVALID_ARGUMENT
#define R(fn, call, label, expected) {#fn, call, label, expected, NULL, ALL_BUILDS}
#define RN(fn, call, label, expected, needle) {#fn, call, label, expected, needle, ALL_BUILDS}
#define RB(fn, call, label, expected, needle, builds) {#fn, call, label, expected, needle, builds}

/* Out-of-range values of an int32 enumeration argument, as label suffixes. */
#define BAD_ENUM(fn, call, arg, prefix)                                                                  \
    R(fn, call, prefix arg "=0", INVAL), R(fn, call, prefix arg "=-1", INVAL),                            \
        R(fn, call, prefix arg "=MIN", INVAL), R(fn, call, prefix arg "=MAX", INVAL)
/* Indices that are no parameter (three are registered). */
#define BAD_INDEX(fn, call, prefix)                                                                      \
    R(fn, call, prefix "index=-1", INVAL), R(fn, call, prefix "index=3", INVAL),                          \
        R(fn, call, prefix "index=MAX", INVAL), R(fn, call, prefix "index=MIN", INVAL),                   \
        RN(fn, call, prefix "optimizer=EMPTY index=0", INVAL, "index")
#define BAD_GROUP(fn, call, prefix)                                                                      \
    R(fn, call, prefix "group=-1", INVAL), R(fn, call, prefix "group=2", INVAL),                          \
        R(fn, call, prefix "group=MAX", INVAL), R(fn, call, prefix "group=MIN", INVAL)
#define NULL_OPT(fn, call) R(fn, call, "optimizer=NULL", INVAL)
#define VALID(fn, call) R(fn, call, "", BNB_OK)
/* A tensor argument: NULL, and each field made bad. */
#define BAD_TENSOR(fn, call, t, cuda_status)                                                                    \
    R(fn, call, t "=NULL", INVAL), RN(fn, call, t "->numel=-1", INVAL, t "->numel"),                      \
        RN(fn, call, t "->numel=MAX", INVAL, t "->numel"), RN(fn, call, t "->numel=MIN", INVAL, t "->numel"), \
        RN(fn, call, t "->dtype=0", INVAL, t "->dtype"), RN(fn, call, t "->dtype=4", INVAL, t "->dtype"),  \
        RN(fn, call, t "->dtype=MIN", INVAL, t "->dtype"), RN(fn, call, t "->dtype=MAX", INVAL, t "->dtype"), \
        RN(fn, call, t "->device=-2", INVAL, t "->device"), RN(fn, call, t "->device=MIN", INVAL, t "->device"), \
        RB(fn, call, t "->device=0", cuda_status, t "->device", CPU_ONLY_BUILD),                  \
        RN(fn, call, t "->data=NULL", INVAL, t "->data"), RN(fn, call, t "->data=MISALIGNED", INVAL, t "->data")
#define BAD_OUT_STRUCT(fn, call, min_bad)                                                                \
    R(fn, call, "out=NULL", INVAL), RN(fn, call, "out->struct_size=0", BNB_ERR_VERSION, "struct_size"),   \
        RN(fn, call, "out->struct_size=" min_bad, BNB_ERR_VERSION, "struct_size")

static const row k_rows[] = {
    /* Infallible functions: any input gives a defined result. */
    R(bnb_status_string, c_status_string, "status=0", HOLDS), R(bnb_status_string, c_status_string, "status=10", HOLDS),
    R(bnb_status_string, c_status_string, "status=11", HOLDS), R(bnb_status_string, c_status_string, "status=-1", HOLDS),
    R(bnb_status_string, c_status_string, "status=MIN", HOLDS), R(bnb_status_string, c_status_string, "status=MAX", HOLDS),
    R(bnb_last_error_message, c_last_error_message, "", HOLDS),
    R(bnb_last_error_message, c_last_error_message, "thread=fresh", HOLDS),
    R(bnb_version_number, c_version_number, "", HOLDS), R(bnb_version_string, c_version_string, "", HOLDS),
    R(bnb_features, c_features, "", HOLDS), R(bnb_block_size, c_block_size, "", HOLDS),
    R(bnb_qmap_size, c_qmap_size, "", HOLDS), R(bnb_state_format_version, c_state_format_version, "", HOLDS),
    R(bnb_optimizer_destroy, c_destroy, "optimizer=NULL", HOLDS), R(bnb_optimizer_destroy, c_destroy, "", HOLDS),

    VALID(bnb_optimizer_config_init_sized, c_config_init_sized),
    R(bnb_optimizer_config_init_sized, c_config_init_sized, "config=NULL", INVAL),
    R(bnb_optimizer_config_init_sized, c_config_init_sized, "struct_size=0", BNB_ERR_VERSION),
    R(bnb_optimizer_config_init_sized, c_config_init_sized, "struct_size=11", BNB_ERR_VERSION),
    R(bnb_optimizer_config_init_sized, c_config_init_sized, "struct_size=12", BNB_OK), /* writes 12 bytes only */
    R(bnb_optimizer_config_init_sized, c_config_init_sized, "struct_size=64", BNB_OK),
    BAD_ENUM(bnb_optimizer_config_init_sized, c_config_init_sized, "algorithm", ""),
    R(bnb_optimizer_config_init_sized, c_config_init_sized, "algorithm=10", INVAL),
    RN(bnb_optimizer_config_init_sized, c_config_init_sized, "config=NULL struct_size=0", ANY_ERROR, NULL),

    VALID(bnb_optimizer_create, c_create),
    R(bnb_optimizer_create, c_create, "config=NULL", INVAL), R(bnb_optimizer_create, c_create, "out=NULL", INVAL),
    /* 0 is "never initialized", INVALID_ARGUMENT by test_config.c; the header lists only VERSION. */
    RN(bnb_optimizer_create, c_create, "config->struct_size=0", INVAL, "struct_size is 0"),
    RN(bnb_optimizer_create, c_create, "config->struct_size=11", BNB_ERR_VERSION, "struct_size"),
    RN(bnb_optimizer_create, c_create, "config->algorithm=0", INVAL, "config->algorithm"),
    RN(bnb_optimizer_create, c_create, "config->algorithm=10", INVAL, "config->algorithm"),
    RN(bnb_optimizer_create, c_create, "config->algorithm=MIN", INVAL, "config->algorithm"),
    RN(bnb_optimizer_create, c_create, "config->beta1=1", INVAL, "config->beta1"),
    RN(bnb_optimizer_create, c_create, "config->beta2=1", INVAL, "config->beta2"),
    RN(bnb_optimizer_create, c_create, "config->optim_bits=16", INVAL, "config->optim_bits"),
    RN(bnb_optimizer_create, c_create, "config->block_wise=2", INVAL, "config->block_wise"),
    RN(bnb_optimizer_create, c_create, "config->min_8bit_size=-1", INVAL, "config->min_8bit_size"),
    RN(bnb_optimizer_create, c_create, "config->min_8bit_size=-9223372036854775807", INVAL, "config->min_8bit_size"),
    RN(bnb_optimizer_create, c_create, "config->percentile_clipping=101", INVAL, "config->percentile_clipping"),
    RN(bnb_optimizer_create, c_create, "config->percentile_clipping=-1", INVAL, "config->percentile_clipping"),
    RN(bnb_optimizer_create, c_create, "config->num_threads=-1", INVAL, "config->num_threads"),
    RN(bnb_optimizer_create, c_create, "config->num_threads=1025", INVAL, "config->num_threads"),
    RN(bnb_optimizer_create, c_create, "config->amsgrad=1", BNB_ERR_UNSUPPORTED, "config->amsgrad"),
    RN(bnb_optimizer_create, c_create, "config->skip_zeros=2", INVAL, "config->skip_zeros"),
    RN(bnb_optimizer_create, c_create, "config->skip_step_on_nonfinite=2", INVAL, "config->skip_step_on_nonfinite"),
    RN(bnb_optimizer_create, c_create, "config->nesterov=1", ANY_ERROR, "config->nesterov"),
    RN(bnb_optimizer_create, c_create, "config->centered=1", ANY_ERROR, "config->centered"),
    RN(bnb_optimizer_create, c_create, "config->max_unorm=1", ANY_ERROR, "config->max_unorm"),
    RN(bnb_optimizer_create, c_create, "config->momentum=0.5", ANY_ERROR, "config->momentum"),
    /* Every double field: NaN and the infinities (the config_field rows below add -1 and more). */

    VALID(bnb_optimizer_get_config, c_get_config), NULL_OPT(bnb_optimizer_get_config, c_get_config),
    BAD_OUT_STRUCT(bnb_optimizer_get_config, c_get_config, "11"),
    R(bnb_optimizer_get_config, c_get_config, "out->struct_size=12", BNB_OK), /* writes 12 bytes only */
    R(bnb_optimizer_get_config, c_get_config, "out->struct_size=100", BNB_OK),

    VALID(bnb_optimizer_add_group, c_add_group), NULL_OPT(bnb_optimizer_add_group, c_add_group),
    R(bnb_optimizer_add_group, c_add_group, "out_group=NULL", INVAL),

    VALID(bnb_optimizer_group_count, c_group_count), NULL_OPT(bnb_optimizer_group_count, c_group_count),
    R(bnb_optimizer_group_count, c_group_count, "out_count=NULL", INVAL),

    VALID(bnb_optimizer_set_hparam, c_set_hparam), NULL_OPT(bnb_optimizer_set_hparam, c_set_hparam),
    BAD_GROUP(bnb_optimizer_set_hparam, c_set_hparam, ""), BAD_ENUM(bnb_optimizer_set_hparam, c_set_hparam, "hparam", ""),
    R(bnb_optimizer_set_hparam, c_set_hparam, "hparam=99", INVAL), R(bnb_optimizer_set_hparam, c_set_hparam, "hparam=300", INVAL),
    RN(bnb_optimizer_set_hparam, c_set_hparam, "hparam=103", INVAL, "hparam"),
    RN(bnb_optimizer_set_hparam, c_set_hparam, "hparam=130", INVAL, "hparam"),
    RN(bnb_optimizer_set_hparam, c_set_hparam, "hparam=210", INVAL, "hparam"),
    /* Values: see the hparam rows generated below. */

    VALID(bnb_optimizer_get_hparam, c_get_hparam), NULL_OPT(bnb_optimizer_get_hparam, c_get_hparam),
    BAD_GROUP(bnb_optimizer_get_hparam, c_get_hparam, ""), BAD_ENUM(bnb_optimizer_get_hparam, c_get_hparam, "hparam", ""),
    RN(bnb_optimizer_get_hparam, c_get_hparam, "hparam=141", INVAL, "hparam"),
    R(bnb_optimizer_get_hparam, c_get_hparam, "out_value=NULL", INVAL),

    VALID(bnb_hparam_get_bounds, c_hparam_get_bounds),
    BAD_ENUM(bnb_hparam_get_bounds, c_hparam_get_bounds, "algorithm", ""),
    R(bnb_hparam_get_bounds, c_hparam_get_bounds, "algorithm=10", INVAL),
    BAD_ENUM(bnb_hparam_get_bounds, c_hparam_get_bounds, "hparam", ""),
    RN(bnb_hparam_get_bounds, c_hparam_get_bounds, "algorithm=1 hparam=103", INVAL, "hparam"),
    RN(bnb_hparam_get_bounds, c_hparam_get_bounds, "algorithm=3 hparam=101", INVAL, "hparam"),
    RN(bnb_hparam_get_bounds, c_hparam_get_bounds, "hparam=300", INVAL, "hparam"),
    R(bnb_hparam_get_bounds, c_hparam_get_bounds, "out=NULL", INVAL),

    VALID(bnb_optimizer_add_param, c_add_param), NULL_OPT(bnb_optimizer_add_param, c_add_param),
    BAD_GROUP(bnb_optimizer_add_param, c_add_param, ""), BAD_TENSOR(bnb_optimizer_add_param, c_add_param, "param", BNB_ERR_UNSUPPORTED),
    RN(bnb_optimizer_add_param, c_add_param, "grad->numel=-1", INVAL, "grad->numel"),
    RN(bnb_optimizer_add_param, c_add_param, "grad->numel=39", INVAL, "grad"),
    RN(bnb_optimizer_add_param, c_add_param, "grad->dtype=1", INVAL, "grad"),
    RN(bnb_optimizer_add_param, c_add_param, "grad->dtype=9", INVAL, "grad->dtype"),
    RN(bnb_optimizer_add_param, c_add_param, "grad->device=-2", INVAL, "grad->device"),
    RN(bnb_optimizer_add_param, c_add_param, "grad->data=NULL", INVAL, "grad->data"),
    RN(bnb_optimizer_add_param, c_add_param, "grad->data=MISALIGNED", INVAL, "grad->data"),
    RN(bnb_optimizer_add_param, c_add_param, "grad->data=SAME", INVAL, "grad"),
    R(bnb_optimizer_add_param, c_add_param, "out_index=NULL", BNB_OK), /* documented as optional */
    R(bnb_optimizer_add_param, c_add_param, "grad=NULL", BNB_OK),      /* documented as optional */

    VALID(bnb_optimizer_bind_param, c_bind_param), NULL_OPT(bnb_optimizer_bind_param, c_bind_param),
    BAD_INDEX(bnb_optimizer_bind_param, c_bind_param, ""), BAD_TENSOR(bnb_optimizer_bind_param, c_bind_param, "param", BNB_ERR_UNSUPPORTED),
    RN(bnb_optimizer_bind_param, c_bind_param, "param->numel=599", INVAL, "param"),
    RN(bnb_optimizer_bind_param, c_bind_param, "param->numel=0", INVAL, "param"),
    RN(bnb_optimizer_bind_param, c_bind_param, "param->dtype=3 grad->dtype=3", INVAL, "param"),
    RN(bnb_optimizer_bind_param, c_bind_param, "index=1", INVAL, "param"), /* p1 is 300 x BF16 */
    RN(bnb_optimizer_bind_param, c_bind_param, "grad->numel=599", INVAL, "grad"),
    RN(bnb_optimizer_bind_param, c_bind_param, "grad->dtype=2", INVAL, "grad"),
    RN(bnb_optimizer_bind_param, c_bind_param, "grad->data=NULL", INVAL, "grad->data"),
    RN(bnb_optimizer_bind_param, c_bind_param, "grad->data=MISALIGNED", INVAL, "grad->data"),
    RN(bnb_optimizer_bind_param, c_bind_param, "grad->data=SAME", INVAL, "grad"),

    VALID(bnb_optimizer_param_count, c_param_count), NULL_OPT(bnb_optimizer_param_count, c_param_count),
    R(bnb_optimizer_param_count, c_param_count, "out_count=NULL", INVAL),

    VALID(bnb_optimizer_param_info, c_param_info), NULL_OPT(bnb_optimizer_param_info, c_param_info),
    BAD_INDEX(bnb_optimizer_param_info, c_param_info, ""), BAD_OUT_STRUCT(bnb_optimizer_param_info, c_param_info, "15"),
    R(bnb_optimizer_param_info, c_param_info, "out->struct_size=16", BNB_OK),
    R(bnb_optimizer_param_info, c_param_info, "out->struct_size=41", BNB_OK),

    VALID(bnb_optimizer_set_param_override, c_set_param_override),
    NULL_OPT(bnb_optimizer_set_param_override, c_set_param_override),
    BAD_INDEX(bnb_optimizer_set_param_override, c_set_param_override, ""),
    BAD_ENUM(bnb_optimizer_set_param_override, c_set_param_override, "key", ""),
    R(bnb_optimizer_set_param_override, c_set_param_override, "key=304", INVAL),
    R(bnb_optimizer_set_param_override, c_set_param_override, "key=311", INVAL),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "key=103", INVAL, "key"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "key=130 value=0.5", INVAL, "key"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "key=300 value=7", INVAL, "optim_bits"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "key=300 value=32", BNB_ERR_INVALID_STATE, "optim_bits"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "index=2 key=300 value=7", INVAL, "optim_bits"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "index=2 key=301 value=-1", INVAL, "min_8bit_size"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "index=2 key=301 value=0.5", INVAL, "min_8bit_size"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "index=2 key=302 value=2", INVAL, "block_wise"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "index=2 key=303 value=101", INVAL, "percentile_clipping"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "index=2 key=303 value=-1", INVAL, "percentile_clipping"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "index=2 key=303 value=50.5", INVAL, "percentile_clipping"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "index=2 key=303 value=nan", INVAL, "percentile_clipping"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "key=303 value=90", BNB_ERR_INVALID_STATE, "percentile_clipping"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "key=310 value=2", INVAL, "skip_zeros"),
    RN(bnb_optimizer_set_param_override, c_set_param_override, "key=310 value=nan", INVAL, "skip_zeros"),
    /* Hyper-parameter values: generated below. */

    VALID(bnb_optimizer_clear_param_override, c_clear_param_override),
    NULL_OPT(bnb_optimizer_clear_param_override, c_clear_param_override),
    BAD_INDEX(bnb_optimizer_clear_param_override, c_clear_param_override, ""),
    BAD_ENUM(bnb_optimizer_clear_param_override, c_clear_param_override, "key", ""),
    RN(bnb_optimizer_clear_param_override, c_clear_param_override, "key=103", INVAL, "key"),
    RN(bnb_optimizer_clear_param_override, c_clear_param_override, "key=303", BNB_ERR_INVALID_STATE, "percentile_clipping"),
    RN(bnb_optimizer_clear_param_override, c_clear_param_override, "index=1 key=300", BNB_ERR_INVALID_STATE, "optim_bits"),

    VALID(bnb_optimizer_get_param_setting, c_get_param_setting),
    NULL_OPT(bnb_optimizer_get_param_setting, c_get_param_setting),
    BAD_INDEX(bnb_optimizer_get_param_setting, c_get_param_setting, ""),
    BAD_ENUM(bnb_optimizer_get_param_setting, c_get_param_setting, "key", ""),
    RN(bnb_optimizer_get_param_setting, c_get_param_setting, "key=140", INVAL, "key"),
    R(bnb_optimizer_get_param_setting, c_get_param_setting, "out_value=NULL", INVAL),
    R(bnb_optimizer_get_param_setting, c_get_param_setting, "out_is_override=NULL", BNB_OK), /* optional */

    VALID(bnb_optimizer_state_view, c_state_view), NULL_OPT(bnb_optimizer_state_view, c_state_view),
    BAD_INDEX(bnb_optimizer_state_view, c_state_view, ""), BAD_ENUM(bnb_optimizer_state_view, c_state_view, "state", ""),
    R(bnb_optimizer_state_view, c_state_view, "state=3", INVAL),
    BAD_OUT_STRUCT(bnb_optimizer_state_view, c_state_view, "39"),
    RN(bnb_optimizer_state_view, c_state_view, "out->struct_size=8", BNB_ERR_VERSION, "struct_size"),
    R(bnb_optimizer_state_view, c_state_view, "out->struct_size=40", BNB_OK),

    VALID(bnb_optimizer_import_param_state, c_import_param_state),
    R(bnb_optimizer_import_param_state, c_import_param_state, "of=1", BNB_OK),
    NULL_OPT(bnb_optimizer_import_param_state, c_import_param_state),
    BAD_INDEX(bnb_optimizer_import_param_state, c_import_param_state, ""),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "index=1", INVAL, "codec mismatch"), /* p0's states into p1 */
    R(bnb_optimizer_import_param_state, c_import_param_state, "state=NULL", INVAL),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->struct_size=0", BNB_ERR_VERSION, "struct_size"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->struct_size=8", BNB_ERR_VERSION, "struct_size"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->step=-1", BNB_ERR_BAD_FORMAT, "step"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->step=MAX", BNB_ERR_BAD_FORMAT, "step"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->step=MIN", BNB_ERR_BAD_FORMAT, "step"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->step=9007199254740993", BNB_ERR_BAD_FORMAT, "step"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->step=0", ANY_ERROR, "step 0"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->mode=4", INVAL, "mode"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->mode=-1", INVAL, "mode"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->mode=MAX", INVAL, "mode"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->mode=1", INVAL, "codec"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->mode=3", INVAL, "codec"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->num_states=3", INVAL, "states"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->num_states=-1", INVAL, "states"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->num_states=1", INVAL, "states"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->num_states=MIN", INVAL, "states"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->data[0]=NULL", INVAL, "missing"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->data[1]=NULL", INVAL, "missing"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->absmax[0]=NULL", INVAL, "missing"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->absmax[1]=NAN_ENTRY", BNB_ERR_BAD_FORMAT, "absmax"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->absmax[0]=INF_ENTRY", BNB_ERR_BAD_FORMAT, "absmax"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->absmax[0]=NEGATIVE_ENTRY", BNB_ERR_BAD_FORMAT, "absmax"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->qmap[0]=NULL", ANY_ERROR, "map"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->qmap[1]=UNSORTED", BNB_ERR_BAD_FORMAT, "map"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->qmap[0]=NAN_ENTRY", BNB_ERR_BAD_FORMAT, "map"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->qmap[0]=NOT_ENDING_IN_ONE", BNB_ERR_BAD_FORMAT, "map"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->clip_history=NULL", ANY_ERROR, "history"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->clip_history=NAN_ENTRY", BNB_ERR_BAD_FORMAT, "history"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "state->clip_history=NEGATIVE_ENTRY", BNB_ERR_BAD_FORMAT, "history"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "of=1 state->data[1]=NAN_ENTRY", BNB_ERR_BAD_FORMAT, "state"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "of=1 state->data[1]=NEGATIVE_ENTRY", BNB_ERR_BAD_FORMAT, "state"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "of=1 state->data[0]=INF_ENTRY", BNB_ERR_BAD_FORMAT, "state"),
    RN(bnb_optimizer_import_param_state, c_import_param_state, "of=1 state->data[0]=NULL", INVAL, "no values"),

    VALID(bnb_optimizer_state_bytes, c_state_bytes), NULL_OPT(bnb_optimizer_state_bytes, c_state_bytes),
    R(bnb_optimizer_state_bytes, c_state_bytes, "out_bytes=NULL", INVAL),

    VALID(bnb_optimizer_copy_state, c_copy_state), NULL_OPT(bnb_optimizer_copy_state, c_copy_state),
    BAD_INDEX(bnb_optimizer_copy_state, c_copy_state, ""), BAD_ENUM(bnb_optimizer_copy_state, c_copy_state, "state", ""),
    R(bnb_optimizer_copy_state, c_copy_state, "state=3", INVAL), R(bnb_optimizer_copy_state, c_copy_state, "dst=NULL", INVAL),
    R(bnb_optimizer_copy_state, c_copy_state, "dst_count=599", INVAL), R(bnb_optimizer_copy_state, c_copy_state, "dst_count=601", INVAL),
    R(bnb_optimizer_copy_state, c_copy_state, "dst_count=0", INVAL), R(bnb_optimizer_copy_state, c_copy_state, "dst_count=-1", INVAL),
    R(bnb_optimizer_copy_state, c_copy_state, "dst_count=MAX", INVAL), R(bnb_optimizer_copy_state, c_copy_state, "dst_count=MIN", INVAL),
    RN(bnb_optimizer_copy_state, c_copy_state, "index=1 dst_count=600", INVAL, "dst_count"),

    VALID(bnb_optimizer_copy_clip_history, c_copy_clip_history),
    NULL_OPT(bnb_optimizer_copy_clip_history, c_copy_clip_history),
    BAD_INDEX(bnb_optimizer_copy_clip_history, c_copy_clip_history, ""),
    RN(bnb_optimizer_copy_clip_history, c_copy_clip_history, "index=1", BNB_ERR_INVALID_STATE, "history"),
    RN(bnb_optimizer_copy_clip_history, c_copy_clip_history, "index=2", BNB_ERR_INVALID_STATE, "history"),
    R(bnb_optimizer_copy_clip_history, c_copy_clip_history, "dst=NULL", INVAL),
    R(bnb_optimizer_copy_clip_history, c_copy_clip_history, "dst_count=99", INVAL),
    R(bnb_optimizer_copy_clip_history, c_copy_clip_history, "dst_count=101", INVAL),
    R(bnb_optimizer_copy_clip_history, c_copy_clip_history, "dst_count=-1", INVAL),
    R(bnb_optimizer_copy_clip_history, c_copy_clip_history, "dst_count=MIN", INVAL),

    VALID(bnb_step, c_step), NULL_OPT(bnb_step, c_step),
    RN(bnb_step, c_step, "optimizer=EMPTY", BNB_ERR_INVALID_STATE, "param"),

    VALID(bnb_optimizer_last_step_info, c_last_step_info), NULL_OPT(bnb_optimizer_last_step_info, c_last_step_info),
    BAD_OUT_STRUCT(bnb_optimizer_last_step_info, c_last_step_info, "15"),
    R(bnb_optimizer_last_step_info, c_last_step_info, "out->struct_size=16", BNB_OK),

    VALID(bnb_state_save, c_state_save), NULL_OPT(bnb_state_save, c_state_save),
    R(bnb_state_save, c_state_save, "path=NULL", INVAL),
    RN(bnb_state_save, c_state_save, "path=EMPTY_STRING", BNB_ERR_IO, "''"),
    RN(bnb_state_save, c_state_save, "path=NO_DIR", BNB_ERR_IO, "no/such/folder"),
    RN(bnb_state_save, c_state_save, "path=DIR", BNB_ERR_IO, "DIR"),
    RN(bnb_state_save, c_state_save, "path=TOO_LONG", BNB_ERR_IO, "aaaa"),
    R(bnb_state_save, c_state_save, "path=GUARDED", BNB_OK),

    VALID(bnb_state_load, c_state_load), NULL_OPT(bnb_state_load, c_state_load),
    R(bnb_state_load, c_state_load, "path=NULL", INVAL),
    RN(bnb_state_load, c_state_load, "path=EMPTY_STRING", BNB_ERR_IO, "''"),
    RN(bnb_state_load, c_state_load, "path=missing.safetensors", BNB_ERR_IO, "missing.safetensors"),
    RN(bnb_state_load, c_state_load, "path=NO_DIR", BNB_ERR_IO, "no/such/folder"),
    RN(bnb_state_load, c_state_load, "path=DIR", BNB_ERR_IO, "DIR"),
    RN(bnb_state_load, c_state_load, "path=FIFO", BNB_ERR_IO, "FIFO"),
    RN(bnb_state_load, c_state_load, "path=DEV_ZERO", BNB_ERR_IO, "/dev/zero"),
    RN(bnb_state_load, c_state_load, "path=TOO_LONG", BNB_ERR_IO, "aaaa"),
    RN(bnb_state_load, c_state_load, "path=EMPTY_FILE", BNB_ERR_BAD_FORMAT, "EMPTY_FILE"),
    RN(bnb_state_load, c_state_load, "path=TRUNCATED", BNB_ERR_BAD_FORMAT, "victim.safetensors"),
    RN(bnb_state_load, c_state_load, "path=EMPTY_CKPT", INVAL, "empty.safetensors"),
    R(bnb_state_load, c_state_load, "path=GUARDED", BNB_OK),
    RN(bnb_state_load, c_state_load, "path=GUARDED_MISSING", BNB_ERR_IO, "GUARDED_MISSING"),

    VALID(bnb_state_serialized_size, c_serialized_size), NULL_OPT(bnb_state_serialized_size, c_serialized_size),
    R(bnb_state_serialized_size, c_serialized_size, "out_size=NULL", INVAL),

    VALID(bnb_state_save_to_buffer, c_save_to_buffer), NULL_OPT(bnb_state_save_to_buffer, c_save_to_buffer),
    R(bnb_state_save_to_buffer, c_save_to_buffer, "dst=NULL", INVAL),
    R(bnb_state_save_to_buffer, c_save_to_buffer, "capacity=0", INVAL),
    R(bnb_state_save_to_buffer, c_save_to_buffer, "capacity=SIZE-1", INVAL),
    R(bnb_state_save_to_buffer, c_save_to_buffer, "capacity=8", INVAL),
    R(bnb_state_save_to_buffer, c_save_to_buffer, "out_written=NULL", BNB_OK), /* optional */

    VALID(bnb_state_load_from_buffer, c_load_from_buffer), NULL_OPT(bnb_state_load_from_buffer, c_load_from_buffer),
    R(bnb_state_load_from_buffer, c_load_from_buffer, "src=NULL", INVAL),
    RN(bnb_state_load_from_buffer, c_load_from_buffer, "size=0", BNB_ERR_BAD_FORMAT, "0 bytes"),
    RN(bnb_state_load_from_buffer, c_load_from_buffer, "size=7", BNB_ERR_BAD_FORMAT, "7 bytes"),
    RN(bnb_state_load_from_buffer, c_load_from_buffer, "size=8", BNB_ERR_BAD_FORMAT, "8-byte"),
    RN(bnb_state_load_from_buffer, c_load_from_buffer, "size=SIZE-1", BNB_ERR_BAD_FORMAT, "truncated"),
    RN(bnb_state_load_from_buffer, c_load_from_buffer, "size=SIZE+1", BNB_ERR_BAD_FORMAT, "data section"),
    RN(bnb_state_load_from_buffer, c_load_from_buffer, "src=NOISE", BNB_ERR_BAD_FORMAT, "header"),
    RN(bnb_state_load_from_buffer, c_load_from_buffer, "src=HUGE_HEADER_LENGTH", BNB_ERR_BAD_FORMAT, "header"),
    RN(bnb_state_load_from_buffer, c_load_from_buffer, "src=EMPTY_CKPT", INVAL, "groups"),

    VALID(bnb_qmap_copy, c_qmap_copy), BAD_ENUM(bnb_qmap_copy, c_qmap_copy, "kind", ""),
    R(bnb_qmap_copy, c_qmap_copy, "kind=3", INVAL), R(bnb_qmap_copy, c_qmap_copy, "dst=NULL", INVAL),

    VALID(bnb_quantize_blockwise, c_quantize_blockwise),
    BAD_ENUM(bnb_quantize_blockwise, c_quantize_blockwise, "kind", ""),
    R(bnb_quantize_blockwise, c_quantize_blockwise, "kind=3", INVAL),
    BAD_TENSOR(bnb_quantize_blockwise, c_quantize_blockwise, "src", INVAL),
    R(bnb_quantize_blockwise, c_quantize_blockwise, "codes=NULL", INVAL),
    R(bnb_quantize_blockwise, c_quantize_blockwise, "absmax=NULL", INVAL),

    VALID(bnb_dequantize_blockwise, c_dequantize_blockwise),
    BAD_ENUM(bnb_dequantize_blockwise, c_dequantize_blockwise, "kind", ""),
    BAD_TENSOR(bnb_dequantize_blockwise, c_dequantize_blockwise, "dst", INVAL),
    R(bnb_dequantize_blockwise, c_dequantize_blockwise, "codes=NULL", INVAL),
    R(bnb_dequantize_blockwise, c_dequantize_blockwise, "absmax=NULL", INVAL),

    VALID(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex),
    R(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "map=NULL", INVAL),
    RN(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "map=UNSORTED", BNB_ERR_BAD_FORMAT, "map"),
    RN(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "map=NAN_ENTRY", BNB_ERR_BAD_FORMAT, "map"),
    RN(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "map=INF_ENTRY", BNB_ERR_BAD_FORMAT, "map"),
    RN(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "map=NO_ZERO", BNB_ERR_BAD_FORMAT, "map"),
    RN(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "map=ALL_ZERO", BNB_ERR_BAD_FORMAT, "map"),
    R(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "block_size=0", INVAL),
    R(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "block_size=-1", INVAL),
    R(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "block_size=MIN", INVAL),
    BAD_TENSOR(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "src", INVAL),
    R(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "codes=NULL", INVAL),
    R(bnb_quantize_blockwise_ex, c_quantize_blockwise_ex, "absmax=NULL", INVAL),

    VALID(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex),
    R(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex, "map=NULL", INVAL),
    RN(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex, "map=UNSORTED", BNB_ERR_BAD_FORMAT, "map"),
    RN(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex, "map=NO_ZERO", BNB_ERR_BAD_FORMAT, "map"),
    R(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex, "block_size=0", INVAL),
    R(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex, "block_size=MIN", INVAL),
    BAD_TENSOR(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex, "dst", INVAL),
    R(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex, "codes=NULL", INVAL),
    R(bnb_dequantize_blockwise_ex, c_dequantize_blockwise_ex, "absmax=NULL", INVAL),

    R(bnb_cuda_device_count, c_cuda_device_count, "out_count=NULL", INVAL),
    RB(bnb_cuda_device_count, c_cuda_device_count, "", BNB_ERR_UNSUPPORTED, "CUDA", CPU_ONLY_BUILD),

    NULL_OPT(bnb_step_on_stream, c_step_on_stream),
    RB(bnb_step_on_stream, c_step_on_stream, "", BNB_ERR_UNSUPPORTED, "CUDA", CPU_ONLY_BUILD),

    VALID(bnb_optimizer_synchronize, c_synchronize), NULL_OPT(bnb_optimizer_synchronize, c_synchronize),

    NULL_OPT(bnb_optimizer_set_amp_hooks, c_set_amp_hooks),
    RB(bnb_optimizer_set_amp_hooks, c_set_amp_hooks, "", BNB_ERR_UNSUPPORTED, "CUDA", CPU_ONLY_BUILD),
    RB(bnb_optimizer_set_amp_hooks, c_set_amp_hooks, "grad_scale=HOST", BNB_ERR_UNSUPPORTED, "CUDA", CPU_ONLY_BUILD),
    RB(bnb_optimizer_set_amp_hooks, c_set_amp_hooks, "found_inf=HOST", BNB_ERR_UNSUPPORTED, "CUDA", CPU_ONLY_BUILD),
    RB(bnb_optimizer_set_amp_hooks, c_set_amp_hooks, "", BNB_OK, NULL, CUDA_BUILD),
    RB(bnb_optimizer_set_amp_hooks, c_set_amp_hooks, "grad_scale=HOST", BNB_ERR_INVALID_STATE, "CUDA", CUDA_BUILD),

    VALID(bnb_optimizer_state_location, c_state_location), NULL_OPT(bnb_optimizer_state_location, c_state_location),
    BAD_INDEX(bnb_optimizer_state_location, c_state_location, ""),
    BAD_OUT_STRUCT(bnb_optimizer_state_location, c_state_location, "19"),
    R(bnb_optimizer_state_location, c_state_location, "out->struct_size=20", BNB_OK),

    NULL_OPT(bnb_optimizer_page_out_states, c_page_out_states),
    RB(bnb_optimizer_page_out_states, c_page_out_states, "", BNB_ERR_UNSUPPORTED, "CUDA", CPU_ONLY_BUILD),
    RB(bnb_optimizer_page_out_states, c_page_out_states, "", BNB_OK, NULL, CUDA_BUILD),
};
#define N_ROWS (sizeof k_rows / sizeof k_rows[0])

/* ---- generated rows: every config field, every hyper-parameter value ---------------------------- */

#define MAX_CASES 2048

typedef struct sweep_case {
    row r;
    char label[160];
    char needle[96];
} sweep_case;

static sweep_case g_cases[MAX_CASES];
static int g_case_count;

static void add_case(row r, const char* label, const char* needle) {
    if (g_case_count == MAX_CASES) {
        fprintf(stderr, "too many cases\n");
        exit(2);
    }
    sweep_case* c = &g_cases[g_case_count++];
    c->r = r;
    snprintf(c->label, sizeof c->label, "%s", label != NULL ? label : r.label);
    c->r.label = c->label;
    if (needle != NULL || r.needle != NULL) {
        snprintf(c->needle, sizeof c->needle, "%s", needle != NULL ? needle : r.needle);
        c->r.needle = c->needle;
    }
}

static void generate_cases(void) {
    for (size_t i = 0; i < N_ROWS; ++i) add_case(k_rows[i], NULL, NULL);
    /* Every double field of the config: non-finite values, and -1 (outside the range of each, or not the
     * neutral value of a field Adam does not have). */
    const char* bad_doubles[] = {"nan", "-nan", "inf", "-inf", "-1"};
    for (size_t f = 0; f < N_CONFIG_FIELDS; ++f) {
        if (k_config_fields[f].type != F_F64) continue;
        for (size_t v = 0; v < sizeof bad_doubles / sizeof bad_doubles[0]; ++v) {
            char label[160], needle[96];
            snprintf(label, sizeof label, "config->%s=%s", k_config_fields[f].name, bad_doubles[v]);
            snprintf(needle, sizeof needle, "config->%s", k_config_fields[f].name);
            add_case((row)R(bnb_optimizer_create, c_create, "", ANY_ERROR), label, needle);
        }
    }
    /* Every int32 field but algorithm and struct_size: values no field accepts. */
    /* Not INT32_MIN: that is BNB_DEFAULT_I32, "the default". */
    const char* bad_ints[] = {"-7", "MAX", "-2147483647"};
    for (size_t f = 0; f < N_CONFIG_FIELDS; ++f) {
        if (k_config_fields[f].type != F_I32 || strcmp(k_config_fields[f].name, "algorithm") == 0) continue;
        for (size_t v = 0; v < sizeof bad_ints / sizeof bad_ints[0]; ++v) {
            char label[160], needle[96];
            snprintf(label, sizeof label, "config->%s=%s", k_config_fields[f].name, bad_ints[v]);
            snprintf(needle, sizeof needle, "config->%s", k_config_fields[f].name);
            add_case((row)R(bnb_optimizer_create, c_create, "", ANY_ERROR), label, needle);
        }
    }
    /* Every algorithm's config with a non-finite learning rate: each algorithm's own checks. */
    /* Adam's hyper-parameters through set_hparam (group 1) and set_param_override (p0), and the
     * clipping and flag options through overrides: values outside every range. */
    const int32_t hparams[] = {BNB_HPARAM_LR, BNB_HPARAM_BETA1, BNB_HPARAM_BETA2, BNB_HPARAM_EPS,
                               BNB_HPARAM_WEIGHT_DECAY};
    const char* names[] = {"lr = ", "beta1 = ", "beta2 = ", "eps = ", "weight_decay = "}; /* the message names it */
    const char* bad_values[] = {"nan", "-nan", "inf", "-inf", "-1", "-1e-300"};
    for (size_t h = 0; h < sizeof hparams / sizeof hparams[0]; ++h) {
        for (size_t v = 0; v < sizeof bad_values / sizeof bad_values[0]; ++v) {
            char label[160];
            snprintf(label, sizeof label, "hparam=%d value=%s", (int)hparams[h], bad_values[v]);
            add_case((row)R(bnb_optimizer_set_hparam, c_set_hparam, "", INVAL), label, names[h]);
            snprintf(label, sizeof label, "key=%d value=%s", (int)hparams[h], bad_values[v]);
            add_case((row)R(bnb_optimizer_set_param_override, c_set_param_override, "", INVAL), label, names[h]);
        }
    }
    for (int h = 1; h <= 2; ++h) { /* betas: 1 is outside [0, 1) */
        char label[160];
        snprintf(label, sizeof label, "hparam=%d value=1", 100 + h);
        add_case((row)R(bnb_optimizer_set_hparam, c_set_hparam, "", INVAL), label, names[h]);
        snprintf(label, sizeof label, "key=%d value=1", 100 + h);
        add_case((row)R(bnb_optimizer_set_param_override, c_set_param_override, "", INVAL), label, names[h]);
    }
}

/* ---- running a case ------------------------------------------------------------------------------ */

static const char* first_name(const mutations* ms) { return ms->count > 0 ? ms->m[0].name : NULL; }

/* In the child: 0 when the case passed, else 1 with the reason on stderr. */
static int run_case(const sweep_case* c) {
    env e;
    build_env(&e);
    mutations ms;
    parse_label(c->r.label, &ms);
    refusal_snapshot before;
    if (refusal_snapshot_take(e.victim.opt, &before) != 0) die("snapshot");
    const bnb_status got = c->r.call(&e, &ms);
    char why[512] = "";
    int ok = 1;
    if (c->r.expected == HOLDS) {
        if (got != BNB_OK) {
            snprintf(why, sizeof why, "%s", g_infallible_why);
            ok = 0;
        }
    } else if (c->r.expected == BNB_OK) {
        if (got != BNB_OK) {
            snprintf(why, sizeof why, "the valid call returned %d (%s)", (int)got,
                     got == BNB_ERR_INTERNAL && g_infallible_why[0] ? g_infallible_why : bnb_last_error_message());
            ok = 0;
        }
    } else {
        const char* needle = c->r.needle != NULL ? c->r.needle : first_name(&ms);
        const char* verdict = refusal_verdict(&before, e.victim.opt, got, c->r.expected, needle);
        if (verdict == NULL) {
            /* The message also starts with the function's name. */
            char prefix[96];
            snprintf(prefix, sizeof prefix, "%s: ", c->r.function);
            if (strncmp(bnb_last_error_message(), prefix, strlen(prefix)) != 0) {
                snprintf(why, sizeof why, "message \"%s\" does not start with \"%s\"", bnb_last_error_message(), prefix);
                ok = 0;
            }
        } else {
            snprintf(why, sizeof why, "%s", verdict);
            ok = 0;
        }
        if (ok) ok = buffers_unchanged(why, sizeof why);
        if (ok) ok = victim_behaves_like_twin(&e, why, sizeof why);
    }
    remove_dir(e.dir);
    if (!ok) fprintf(stderr, "%s\n", why);
    return ok ? 0 : 1;
}

/* ---- the exports of bnb8.h ----------------------------------------------------------------------- */

#define MAX_EXPORTS 256

static char g_exports[MAX_EXPORTS][64];
static int g_export_count;

/* "BNB_API <anything but ; and (> <name>(" as tests/check_exports.cmake reads the header. */
static int read_exports(const char* header) {
    FILE* f = fopen(header, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s: %s\n", header, strerror(errno));
        return -1;
    }
    static char text[1 << 20];
    const size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (const char* p = strstr(text, "BNB_API"); p != NULL; p = strstr(p + 7, "BNB_API")) {
        const char* q = p + 7;
        while (*q != '\0' && *q != ';' && *q != '(') ++q;
        if (*q != '(') continue;
        const char* end = q;
        const char* start = end;
        while (start > p && (start[-1] == '_' || (start[-1] >= 'a' && start[-1] <= 'z') ||
                             (start[-1] >= '0' && start[-1] <= '9')))
            --start;
        if (end - start < 5 || strncmp(start, "bnb_", 4) != 0 || g_export_count == MAX_EXPORTS) continue;
        snprintf(g_exports[g_export_count++], sizeof g_exports[0], "%.*s", (int)(end - start), start);
    }
    return 0;
}

static int is_export(const char* name) {
    for (int i = 0; i < g_export_count; ++i) {
        if (strcmp(g_exports[i], name) == 0) return 1;
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <path of bnb8.h> [case substring]\n", argv[0]);
        return 2;
    }
    if (read_exports(argv[1]) != 0) return 2;
    const char* only = argc > 2 ? argv[2] : NULL;
    generate_cases();
    signal(SIGPIPE, SIG_IGN);

    int failures = 0;
    /* Coverage: every export has a case, every case names an export. */
    for (int i = 0; i < g_export_count; ++i) {
        int covered = 0;
        for (int c = 0; c < g_case_count && !covered; ++c) covered = strcmp(g_cases[c].r.function, g_exports[i]) == 0;
        if (!covered) {
            printf("FAIL coverage: %s is exported by bnb8.h but has no case in test_arg_sweep.c\n", g_exports[i]);
            ++failures;
        }
    }
    for (int c = 0; c < g_case_count; ++c) {
        if (!is_export(g_cases[c].r.function)) {
            printf("FAIL coverage: case %s(%s) names no export of bnb8.h\n", g_cases[c].r.function, g_cases[c].label);
            ++failures;
        }
    }
    snprintf(g_base_dir, sizeof g_base_dir, "/tmp/bnb8_sweep_XXXXXX");
    if (mkdtemp(g_base_dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    const int cuda = (bnb_features() & BNB_FEATURE_CUDA) != 0;
    int run = 0, skipped = 0;
    for (int c = 0; c < g_case_count; ++c) {
        const sweep_case* k = &g_cases[c];
        if ((k->r.builds == CPU_ONLY_BUILD && cuda) || (k->r.builds == CUDA_BUILD && !cuda)) {
            ++skipped;
            continue;
        }
        char name[256];
        snprintf(name, sizeof name, "%s(%s)", k->r.function, k->label[0] ? k->label : "valid");
        if (only != NULL && strstr(name, only) == NULL) continue;
        fflush(stdout);
        const pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            alarm(60); /* a hang is a failure (SIGALRM), sanitizer builds included */
            _exit(run_case(k));
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        ++run;
        if (WIFSIGNALED(status)) {
            printf("FAIL %s: the child died of signal %d (%s)%s\n", name, WTERMSIG(status), strsignal(WTERMSIG(status)),
                   WTERMSIG(status) == SIGALRM ? ": it hung" : "");
            ++failures;
        } else if (WEXITSTATUS(status) != 0) {
            printf("FAIL %s (exit %d; the reason is printed above)\n", name, WEXITSTATUS(status));
            ++failures;
        }
    }
    remove_dir(g_base_dir); /* with what crashed children left */
    printf("arg sweep: %d cases run over %d exports (%d skipped for this build), %d failures\n", run, g_export_count,
           skipped, failures);
    return failures == 0 ? 0 : 1;
}
