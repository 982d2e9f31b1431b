#define _GNU_SOURCE /* memmem */
/* Checkpoints (bnb_state_save / bnb_state_load and the buffer forms):
 *  - resume equivalence: k steps, save, load into a fresh optimizer, m steps == k + m steps, bit for bit,
 *    for Adam/AdamW x 32-bit/8-bit block-wise/8-bit tensor-wise x fp32/fp16/bf16, by path and by buffer;
 *  - a loaded optimizer saves byte-identical files (states, maps, steps and hyper-parameters all
 *    survive); the optimizer before its first step round-trips too;
 *  - every failure (truncation at every length class, flipped bytes anywhere, a newer major version,
 *    each kind of mismatch, I/O errors) returns its status and leaves the optimizer exactly as it was,
 *    which is checked by comparing its serialized bytes before and after;
 *  - atomic save: a failed save leaves the previous file untouched and no temporary file behind. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/family.h"
#include "support/optim_helpers.h"
#include "support/refusal.h"

typedef struct run {
    bnb_optimizer* opt;
    test_buffer params[2];
    test_buffer grads[2];
    test_rng rng;
} run;

static const int64_t kSizes[2] = {5000, 1000}; /* 8-bit-sized and 32-bit-by-size parameters */

/* Same seed, same data: two runs that see the same gradients. */
static void run_init(run* r, bnb_algorithm algorithm, int bits, int block_wise, bnb_dtype dtype) {
    rng_seed(&r->rng, 4242);
    r->opt = make_optimizer(algorithm, bits, block_wise, 1e-3, -1, 4096);
    int64_t group = 0;
    assert_int_equal(bnb_optimizer_add_group(r->opt, &group), BNB_OK);
    assert_int_equal(bnb_optimizer_set_hparam(r->opt, 1, BNB_HPARAM_LR, 3e-3), BNB_OK);
    for (int k = 0; k < 2; ++k) {
        r->params[k] = buffer_alloc(kSizes[k], dtype);
        r->grads[k] = buffer_alloc(kSizes[k], dtype);
        fill_normal(&r->rng, &r->params[k], 0.1);
        bnb_tensor p = buffer_tensor(&r->params[k]), g = buffer_tensor(&r->grads[k]);
        assert_int_equal(bnb_optimizer_add_param(r->opt, k, &p, &g, NULL), BNB_OK);
    }
}

static void run_steps(run* r, int steps) {
    for (int s = 0; s < steps; ++s) {
        for (int k = 0; k < 2; ++k) fill_normal(&r->rng, &r->grads[k], 0.01);
        assert_int_equal(bnb_step(r->opt), BNB_OK);
    }
}

static void run_free(run* r) {
    bnb_optimizer_destroy(r->opt);
    for (int k = 0; k < 2; ++k) {
        buffer_free(&r->params[k]);
        buffer_free(&r->grads[k]);
    }
}

static void assert_same_bytes(const bnb_optimizer* a, const bnb_optimizer* b) {
    size_t na = 0, nb = 0;
    unsigned char* x = serialize_state(a, &na);
    unsigned char* y = serialize_state(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(x);
    free(y);
}

static char g_dir[256];

static void make_temp_dir(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/bnb8_checkpoint_XXXXXX");
    assert_non_null(mkdtemp(g_dir));
}

static void path_in_dir(char* out, size_t size, const char* name) { snprintf(out, size, "%s/%s", g_dir, name); }

static int count_dir_entries(void) {
    DIR* dir = opendir(g_dir);
    int count = 0;
    for (struct dirent* e = readdir(dir); e != NULL; e = readdir(dir)) count += e->d_name[0] != '.';
    closedir(dir);
    return count;
}

/* k steps, save, restore into a fresh optimizer (fresh states, same parameter values), m steps. */
static void check_resume(bnb_algorithm algorithm, int bits, int block_wise, bnb_dtype dtype, int by_path) {
    run straight, resumed;
    run_init(&straight, algorithm, bits, block_wise, dtype);
    run_init(&resumed, algorithm, bits, block_wise, dtype);
    run_steps(&straight, 7);
    run_steps(&resumed, 7);

    run fresh;
    run_init(&fresh, algorithm, bits, block_wise, dtype);
    fresh.rng = resumed.rng;
    for (int k = 0; k < 2; ++k) buffer_copy(&fresh.params[k], &resumed.params[k]);
    if (by_path) {
        char path[300];
        path_in_dir(path, sizeof path, "resume.safetensors");
        assert_int_equal(bnb_state_save(resumed.opt, path), BNB_OK);
        assert_int_equal(bnb_state_load(fresh.opt, path), BNB_OK);
        unlink(path);
    } else {
        size_t size = 0;
        unsigned char* bytes = serialize_state(resumed.opt, &size);
        assert_int_equal(bnb_state_load_from_buffer(fresh.opt, bytes, size), BNB_OK);
        free(bytes);
    }
    assert_same_bytes(fresh.opt, resumed.opt); /* re-saving gives the same bytes */
    assert_int_equal(param_info(fresh.opt, 0).step, 7);
    double lr = 0;
    assert_int_equal(bnb_optimizer_get_hparam(fresh.opt, 1, BNB_HPARAM_LR, &lr), BNB_OK);
    assert_true(lr == 3e-3);

    run_steps(&straight, 5);
    run_steps(&fresh, 5);
    for (int k = 0; k < 2; ++k) assert_true(buffer_equal_bits(&straight.params[k], &fresh.params[k]));
    assert_same_bytes(straight.opt, fresh.opt);
    run_free(&straight);
    run_free(&resumed);
    run_free(&fresh);
}

static void resume_is_bitwise_identical(void** state) {
    (void)state;
    make_temp_dir();
    const bnb_algorithm algorithms[] = {BNB_ALGO_ADAM, BNB_ALGO_ADAMW};
    const bnb_dtype dtypes[] = {BNB_DTYPE_F32, BNB_DTYPE_F16, BNB_DTYPE_BF16};
    const int modes[3][2] = {{32, 1}, {8, 1}, {8, 0}};
    for (int a = 0; a < 2; ++a)
        for (int m = 0; m < 3; ++m)
            for (int d = 0; d < 3; ++d) check_resume(algorithms[a], modes[m][0], modes[m][1], dtypes[d], (a + m + d) % 2);
    rmdir(g_dir);
}

static void fresh_optimizer_round_trips(void** state) {
    (void)state;
    run a, b;
    run_init(&a, BNB_ALGO_ADAMW, 8, 1, BNB_DTYPE_F32);
    run_init(&b, BNB_ALGO_ADAMW, 8, 1, BNB_DTYPE_F32);
    size_t size = 0;
    unsigned char* bytes = serialize_state(a.opt, &size);
    assert_int_equal(bnb_state_load_from_buffer(b.opt, bytes, size), BNB_OK);
    assert_int_equal(param_info(b.opt, 0).state_mode, BNB_STATE_MODE_NONE);
    assert_same_bytes(a.opt, b.opt);
    free(bytes);
    run_free(&a);
    run_free(&b);
}

/* A loaded checkpoint replaces the hyper-parameters, as torch's load_state_dict does. */
static void load_restores_hyperparameters(void** state) {
    (void)state;
    run a, b;
    run_init(&a, BNB_ALGO_ADAM, 32, 1, BNB_DTYPE_F32);
    run_init(&b, BNB_ALGO_ADAM, 32, 1, BNB_DTYPE_F32);
    assert_int_equal(bnb_optimizer_set_hparam(a.opt, 0, BNB_HPARAM_BETA2, 0.95), BNB_OK);
    assert_int_equal(bnb_optimizer_set_hparam(a.opt, 0, BNB_HPARAM_EPS, 1.25e-7), BNB_OK);
    assert_int_equal(bnb_optimizer_set_hparam(b.opt, 0, BNB_HPARAM_LR, 0.5), BNB_OK);
    size_t size = 0;
    unsigned char* bytes = serialize_state(a.opt, &size);
    assert_int_equal(bnb_state_load_from_buffer(b.opt, bytes, size), BNB_OK);
    double v = 0;
    assert_int_equal(bnb_optimizer_get_hparam(b.opt, 0, BNB_HPARAM_BETA2, &v), BNB_OK);
    assert_true(v == 0.95);
    assert_int_equal(bnb_optimizer_get_hparam(b.opt, 0, BNB_HPARAM_EPS, &v), BNB_OK);
    assert_true(v == 1.25e-7);
    assert_int_equal(bnb_optimizer_get_hparam(b.opt, 0, BNB_HPARAM_LR, &v), BNB_OK);
    assert_true(v == 1e-3);
    free(bytes);
    run_free(&a);
    run_free(&b);
}

/* ---- failures leave the optimizer exactly as it was ---------------------------------------------- */

static void expect_load_fails(bnb_optimizer* target, const unsigned char* bytes, size_t size, int allowed_mask) {
    refusal_snapshot before;
    assert_int_equal(refusal_snapshot_take(target, &before), 0);
    const bnb_status status = bnb_state_load_from_buffer(target, bytes, size);
    if (status == BNB_OK || !((1 << status) & allowed_mask)) {
        fail_msg("load of %zu bytes returned %d (%s)", size, (int)status, status == BNB_OK ? "" : bnb_last_error_message());
    }
    assert_refused(&before, target, status, REFUSAL_ANY_ERROR, NULL);
    refusal_snapshot_free(&before);
}

#define BIT(s) (1 << (s))

static void truncated_and_corrupt_files_are_rejected(void** state) {
    (void)state;
    run source, target;
    run_init(&source, BNB_ALGO_ADAMW, 8, 1, BNB_DTYPE_BF16);
    run_init(&target, BNB_ALGO_ADAMW, 8, 1, BNB_DTYPE_BF16);
    run_steps(&source, 3);
    run_steps(&target, 1); /* the target has states of its own that must survive */
    size_t size = 0;
    unsigned char* good = serialize_state(source.opt, &size);
    unsigned char* copy = malloc(size);

    /* Truncation: every length up to 4 KiB, then every 997th length, and one byte short. */
    for (size_t n = 0; n < size; n = n < 4096 ? n + 1 : n + 997) {
        expect_load_fails(target.opt, good, n, BIT(BNB_ERR_BAD_FORMAT));
    }
    expect_load_fails(target.opt, good, size - 1, BIT(BNB_ERR_BAD_FORMAT));

    /* A flipped byte anywhere: header bytes may also read as a newer version or another algorithm or
     * shape (all rejected); data bytes always fail their checksum. */
    const uint64_t header_end = 8 + (uint64_t)good[0] + ((uint64_t)good[1] << 8) + ((uint64_t)good[2] << 16);
    for (size_t i = 0; i < size; i += (i < header_end ? 1 : 61)) {
        memcpy(copy, good, size);
        copy[i] ^= (unsigned char)(1u << (i % 8));
        if (getenv("BNB_DEBUG_FLIP")) fprintf(stderr, "flip %zu (%02x -> %02x)\n", i, good[i], copy[i]);
        const int allowed = i < header_end ? BIT(BNB_ERR_BAD_FORMAT) | BIT(BNB_ERR_VERSION) | BIT(BNB_ERR_INVALID_ARGUMENT)
                                           : BIT(BNB_ERR_BAD_FORMAT);
        expect_load_fails(target.opt, copy, size, allowed);
    }
    /* Garbage and an empty buffer. */
    memset(copy, 0xA5, size);
    expect_load_fails(target.opt, copy, size, BIT(BNB_ERR_BAD_FORMAT));
    free(good);
    free(copy);
    run_free(&source);
    run_free(&target);
}

static void newer_major_version_is_rejected(void** state) {
    (void)state;
    run a;
    run_init(&a, BNB_ALGO_ADAM, 8, 1, BNB_DTYPE_F32);
    run_steps(&a, 1);
    size_t size = 0;
    unsigned char* bytes = serialize_state(a.opt, &size);
    char* version = memmem(bytes, size, "\"format_version\":\"1.0\"", 22);
    assert_non_null(version);
    version[18] = '2';
    size_t before_size = 0;
    unsigned char* before = serialize_state(a.opt, &before_size);
    assert_int_equal(bnb_state_load_from_buffer(a.opt, bytes, size), BNB_ERR_VERSION);
    assert_non_null(strstr(bnb_last_error_message(), "format version 2.0"));
    version[18] = '1';
    version[20] = '7'; /* a newer minor version is read */
    assert_int_equal(bnb_state_load_from_buffer(a.opt, bytes, size), BNB_ERR_BAD_FORMAT); /* header checksum */
    assert_non_null(strstr(bnb_last_error_message(), "header checksum"));
    unsigned char* after = serialize_state(a.opt, &size);
    assert_memory_equal(before, after, before_size);
    free(bytes);
    free(before);
    free(after);
    run_free(&a);
}

static void mismatched_optimizers_are_rejected(void** state) {
    (void)state;
    run source;
    run_init(&source, BNB_ALGO_ADAMW, 8, 1, BNB_DTYPE_F32);
    run_steps(&source, 2);
    size_t size = 0;
    unsigned char* bytes = serialize_state(source.opt, &size);

    struct {
        bnb_algorithm algorithm;
        int bits;
        int block_wise;
        bnb_dtype dtype;
        const char* needle;
    } cases[] = {
        {BNB_ALGO_ADAM, 8, 1, BNB_DTYPE_F32, "algorithm 'adamw'"},
        {BNB_ALGO_ADAMW, 32, 1, BNB_DTYPE_F32, "state codec mismatch"},
        {BNB_ALGO_ADAMW, 8, 0, BNB_DTYPE_F32, "state codec mismatch"},
        {BNB_ALGO_ADAMW, 8, 1, BNB_DTYPE_F16, "dtype mismatch"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        run target;
        run_init(&target, cases[c].algorithm, cases[c].bits, cases[c].block_wise, cases[c].dtype);
        expect_load_fails(target.opt, bytes, size, BIT(BNB_ERR_INVALID_ARGUMENT));
        if (strstr(bnb_last_error_message(), cases[c].needle) == NULL) {
            fail_msg("case %zu: \"%s\" lacks \"%s\"", c, bnb_last_error_message(), cases[c].needle);
        }
        run_free(&target);
    }
    /* Different parameter count, element count and groups. */
    test_buffer p = buffer_alloc(5000, BNB_DTYPE_F32), q = buffer_alloc(999, BNB_DTYPE_F32);
    bnb_tensor tp = buffer_tensor(&p), tq = buffer_tensor(&q);
    bnb_optimizer* one = make_optimizer(BNB_ALGO_ADAMW, 8, 1, 1e-3, -1, 4096);
    int64_t group = 0;
    assert_int_equal(bnb_optimizer_add_group(one, &group), BNB_OK);
    assert_int_equal(bnb_optimizer_add_param(one, 0, &tp, NULL, NULL), BNB_OK);
    expect_load_fails(one, bytes, size, BIT(BNB_ERR_INVALID_ARGUMENT));
    assert_non_null(strstr(bnb_last_error_message(), "2 parameters"));
    assert_int_equal(bnb_optimizer_add_param(one, 1, &tq, NULL, NULL), BNB_OK);
    expect_load_fails(one, bytes, size, BIT(BNB_ERR_INVALID_ARGUMENT));
    assert_non_null(strstr(bnb_last_error_message(), "1000 elements in the checkpoint, 999"));
    bnb_optimizer* no_group = make_optimizer(BNB_ALGO_ADAMW, 8, 1, 1e-3, -1, 4096);
    expect_load_fails(no_group, bytes, size, BIT(BNB_ERR_INVALID_ARGUMENT));
    assert_non_null(strstr(bnb_last_error_message(), "2 parameter groups"));
    bnb_optimizer_destroy(one);
    bnb_optimizer_destroy(no_group);
    buffer_free(&p);
    buffer_free(&q);
    free(bytes);
    run_free(&source);
}

static void argument_and_io_errors(void** state) {
    (void)state;
    make_temp_dir();
    run a;
    run_init(&a, BNB_ALGO_ADAM, 8, 1, BNB_DTYPE_F32);
    run_steps(&a, 1);
    char path[300], missing[300];
    path_in_dir(path, sizeof path, "ok.safetensors");
    path_in_dir(missing, sizeof missing, "no/such/folder/x.safetensors");
    size_t size = 0;
    unsigned char small[16];
    assert_int_equal(bnb_state_save(NULL, path), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_state_save(a.opt, NULL), BNB_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(bnb_last_error_message(), "path is NULL"));
    assert_int_equal(bnb_state_load(a.opt, NULL), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_state_serialized_size(a.opt, NULL), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_state_save_to_buffer(a.opt, NULL, 100, &size), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_state_save_to_buffer(a.opt, small, sizeof small, &size), BNB_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(bnb_last_error_message(), "capacity = 16"));
    assert_int_equal(bnb_state_load_from_buffer(a.opt, NULL, 10), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_state_load(a.opt, missing), BNB_ERR_IO);
    assert_non_null(strstr(bnb_last_error_message(), missing));
    assert_int_equal(bnb_state_load(a.opt, g_dir), BNB_ERR_IO); /* a folder is not a checkpoint */
    assert_int_equal(bnb_state_save(a.opt, missing), BNB_ERR_IO);

    /* Save over an existing file; a failing save (target is a folder) leaves it and no temporary file. */
    assert_int_equal(bnb_state_save(a.opt, path), BNB_OK);
    run_steps(&a, 1);
    assert_int_equal(bnb_state_save(a.opt, path), BNB_OK);
    assert_int_equal(count_dir_entries(), 1);
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0644);
    char blocked[300];
    path_in_dir(blocked, sizeof blocked, "blocked");
    assert_int_equal(mkdir(blocked, 0755), 0);
    assert_int_equal(bnb_state_save(a.opt, blocked), BNB_ERR_IO);
    assert_int_equal(count_dir_entries(), 2); /* ok.safetensors and the folder, no temporary file */
    /* An empty file. */
    char empty[300];
    path_in_dir(empty, sizeof empty, "empty.safetensors");
    FILE* f = fopen(empty, "wb");
    fclose(f);
    assert_int_equal(bnb_state_load(a.opt, empty), BNB_ERR_BAD_FORMAT);
    assert_non_null(strstr(bnb_last_error_message(), "empty.safetensors"));
    unlink(empty);
    unlink(path);
    rmdir(blocked);
    rmdir(g_dir);
    run_free(&a);
    assert_int_equal(bnb_state_format_version(), BNB_STATE_FORMAT_VERSION);
}

/* Every algorithm and mode, with percentile clipping and a per-parameter override: k steps, save,
 * load into a fresh optimizer (whose own overrides differ and are replaced), m steps == k + m steps,
 * bit for bit, by comparing the checkpoint bytes and the parameter bits. */
static void family_resume_is_bitwise_identical(void** state) {
    (void)state;
    int count = 0;
    const family_case* cases = family_cases(&count);
    const int modes[3][2] = {{32, 1}, {8, 1}, {8, 0}};
    for (int c = 0; c < count; ++c) {
        for (int m = 0; m < 3; ++m) {
            spec_config config = family_spec_config(&cases[c].config);
            config.percentile_clipping = 20;
            config.weight_decay = 1e-2;
            test_buffer params[3], seconds[3], grad[2]; /* seconds: the second parameter's buffers */
            bnb_optimizer* opts[3];
            test_rng rng;
            rng_seed(&rng, 11);
            for (int r = 0; r < 3; ++r) { /* 0: straight, 1: saved, 2: loaded */
                params[r] = buffer_alloc(5000, BNB_DTYPE_BF16);
                seconds[r] = buffer_alloc(5000, BNB_DTYPE_BF16);
                opts[r] = family_optimizer(&config, modes[m][0], modes[m][1]);
            }
            grad[0] = buffer_alloc(5000, BNB_DTYPE_BF16);
            grad[1] = buffer_alloc(5000, BNB_DTYPE_BF16);
            fill_normal(&rng, &params[0], 0.1);
            buffer_copy(&params[1], &params[0]);
            fill_normal(&rng, &seconds[0], 0.1);
            buffer_copy(&seconds[1], &seconds[0]);
            for (int r = 0; r < 3; ++r) {
                add_param(opts[r], &params[r], &grad[0]);
                add_param(opts[r], &seconds[r], &grad[1]); /* its own buffer: overlaps are rejected */
                assert_int_equal(bnb_optimizer_set_param_override(opts[r], 1, BNB_HPARAM_LR, r == 2 ? 0.5 : 2e-3), BNB_OK);
            }
            for (int step = 0; step < 4; ++step) {
                fill_normal(&rng, &grad[0], 0.01 * (1 + step % 3));
                fill_normal(&rng, &grad[1], 0.01);
                for (int r = 0; r < 2; ++r) assert_int_equal(bnb_step(opts[r]), BNB_OK);
            }
            buffer_copy(&params[2], &params[1]);
            buffer_copy(&seconds[2], &seconds[1]);
            assert_checkpoint_round_trip(opts[1], opts[2]);
            double lr = 0;
            assert_int_equal(bnb_optimizer_get_param_setting(opts[2], 1, BNB_HPARAM_LR, &lr, NULL), BNB_OK);
            assert_true(lr == 2e-3); /* the checkpoint's override replaced the fresh optimizer's */
            for (int step = 0; step < 3; ++step) {
                fill_normal(&rng, &grad[0], 0.01 * (1 + step % 3));
                fill_normal(&rng, &grad[1], 0.01);
                assert_int_equal(bnb_step(opts[0]), BNB_OK);
                assert_int_equal(bnb_step(opts[2]), BNB_OK);
            }
            if (!buffer_equal_bits(&params[0], &params[2])) fail_msg("%s mode %d: resumed params differ", cases[c].name, m);
            if (!buffer_equal_bits(&seconds[0], &seconds[2])) fail_msg("%s mode %d: resumed params differ", cases[c].name, m);
            assert_same_bytes(opts[0], opts[2]);
            for (int r = 0; r < 3; ++r) {
                bnb_optimizer_destroy(opts[r]);
                buffer_free(&params[r]);
                buffer_free(&seconds[r]);
            }
            buffer_free(&grad[0]);
            buffer_free(&grad[1]);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(family_resume_is_bitwise_identical),
        cmocka_unit_test(resume_is_bitwise_identical),
        cmocka_unit_test(fresh_optimizer_round_trips),
        cmocka_unit_test(load_restores_hyperparameters),
        cmocka_unit_test(truncated_and_corrupt_files_are_rejected),
        cmocka_unit_test(newer_major_version_is_rejected),
        cmocka_unit_test(mismatched_optimizers_are_rejected),
        cmocka_unit_test(argument_and_io_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
