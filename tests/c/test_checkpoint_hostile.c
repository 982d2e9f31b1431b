#define _GNU_SOURCE
/* Hostile checkpoints (issue 13), each crafted with every checksum recomputed (support/checkpoint_edit.h):
 *  - step counters: INT64_MAX, -1 and BNB_MAX_STEP + 1 are refused by load and import; a parameter at
 *    BNB_MAX_STEP refuses to step and changes nothing (finding 1: the history index went negative);
 *  - out-of-range values (Inf/NaN/negative absmax, NaN/negative second moments, NaN histories) are
 *    refused naming tensor and value; repeated JSON keys and loose format versions are refused (7);
 *  - a FIFO is refused without blocking; a huge header is refused before it is read (4);
 *  - a file truncated while it loads gives a status, never SIGBUS (3);
 *  - the load's peak memory is about the state size (6);
 *  - saves respect the umask and the replaced file's mode and remove stale temporaries of our own
 *    naming only (7); a save killed at random points leaves the previous file, loadable (kill test). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bnb8.h"
#include "support/checkpoint_edit.h"
#include "support/optim_helpers.h"
#include "support/refusal.h"

static char g_dir[256];

static void path_in_dir(char* out, size_t size, const char* name) { snprintf(out, size, "%s/%s", g_dir, name); }

typedef struct fixture {
    bnb_optimizer* opt;
    test_buffer param, grad;
    test_rng rng;
} fixture;

/* Adam, 8-bit block-wise, percentile clipping on (a history to index), one parameter of n elements. */
static void fixture_init(fixture* f, int bits, int64_t n, int clipping) {
    rng_seed(&f->rng, 7);
    f->opt = make_optimizer(BNB_ALGO_ADAM, bits, 1, 1e-3, -1, 4096);
    f->param = buffer_alloc(n, BNB_DTYPE_F32);
    f->grad = buffer_alloc(n, BNB_DTYPE_F32);
    fill_normal(&f->rng, &f->param, 0.1);
    add_param(f->opt, &f->param, &f->grad);
    if (clipping) assert_int_equal(bnb_optimizer_set_param_override(f->opt, 0, BNB_OPTION_PERCENTILE_CLIPPING, 95), BNB_OK);
}

static void fixture_steps(fixture* f, int steps) {
    for (int s = 0; s < steps; ++s) {
        fill_normal(&f->rng, &f->grad, 0.01);
        assert_int_equal(bnb_step(f->opt), BNB_OK);
    }
}

static void fixture_free(fixture* f) {
    bnb_optimizer_destroy(f->opt);
    buffer_free(&f->param);
    buffer_free(&f->grad);
}

static int g_cases = 0;

/* Loading `bytes` fails with `expected`, names `needle`, and leaves the optimizer as it was. */
static void expect_rejected(bnb_optimizer* opt, const unsigned char* bytes, size_t size, bnb_status expected,
                            const char* needle) {
    refusal_snapshot before;
    assert_int_equal(refusal_snapshot_take(opt, &before), 0);
    const bnb_status got = bnb_state_load_from_buffer(opt, bytes, size);
    ++g_cases;
    assert_refused(&before, opt, got, (int)expected, needle);
    refusal_snapshot_free(&before);
}

/* The optimizer's checkpoint with metadata `key` set to `value`, checksums recomputed. */
static unsigned char* with_meta(const bnb_optimizer* opt, const char* key, const char* value, size_t* size) {
    size_t n = 0;
    unsigned char* bytes = serialize_state(opt, &n);
    ckpt* c = ckpt_parse(bytes, n);
    assert_non_null(c);
    ckpt_set_meta(c, key, value);
    unsigned char* out = ckpt_write(c, size);
    ckpt_free(c);
    free(bytes);
    return out;
}

static void step_counter_is_bounded(void** state) {
    (void)state;
    fixture f;
    fixture_init(&f, 8, 5000, 1);
    fixture_steps(&f, 3);
    const char* bad[] = {"9223372036854775807", "9007199254740993", "-1", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        size_t size = 0;
        unsigned char* file = with_meta(f.opt, "p0.step", bad[i], &size);
        expect_rejected(f.opt, file, size, BNB_ERR_BAD_FORMAT, "step");
        free(file);
    }
    /* At the limit: loads, and the step refuses to advance it, changing nothing. */
    size_t size = 0;
    char limit[32];
    snprintf(limit, sizeof limit, "%lld", (long long)BNB_MAX_STEP);
    unsigned char* file = with_meta(f.opt, "p0.step", limit, &size);
    assert_int_equal(bnb_state_load_from_buffer(f.opt, file, size), BNB_OK);
    free(file);
    refusal_snapshot before;
    assert_int_equal(refusal_snapshot_take(f.opt, &before), 0);
    fill_normal(&f.rng, &f.grad, 0.01);
    assert_refused(&before, f.opt, bnb_step(f.opt), BNB_ERR_INVALID_STATE, "BNB_MAX_STEP");
    refusal_snapshot_free(&before);
    /* The same bound through import. */
    bnb_param_info info = param_info(f.opt, 0);
    assert_int_equal(info.step, BNB_MAX_STEP);
    fixture_free(&f);

    fixture g;
    fixture_init(&g, 32, 1000, 1);
    fixture_steps(&g, 2);
    float* m = read_state(g.opt, 0, 1, 1000);
    float* v = read_state(g.opt, 0, 2, 1000);
    float history[100];
    assert_int_equal(bnb_optimizer_copy_clip_history(g.opt, 0, history, 100), BNB_OK);
    bnb_param_state s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.mode = BNB_STATE_MODE_32BIT;
    s.num_states = 2;
    s.data[0] = m;
    s.data[1] = v;
    s.clip_history = history;
    s.step = INT64_MAX;
    assert_int_equal(bnb_optimizer_import_param_state(g.opt, 0, &s), BNB_ERR_BAD_FORMAT);
    s.step = BNB_MAX_STEP + 1;
    assert_int_equal(bnb_optimizer_import_param_state(g.opt, 0, &s), BNB_ERR_BAD_FORMAT);
    g_cases += 2;
    free(m);
    free(v);
    fixture_free(&g);
}

/* Sets element `index` of tensor `name` (fp32) to `value`, recomputes checksums, expects rejection. */
static void expect_value_rejected(bnb_optimizer* opt, const char* name, size_t index, float value, const char* needle) {
    size_t n = 0, size = 0, bytes = 0;
    unsigned char* file = serialize_state(opt, &n);
    ckpt* c = ckpt_parse(file, n);
    assert_non_null(c);
    unsigned char* data = ckpt_tensor_data(c, name, &bytes);
    if (data == NULL) fail_msg("no tensor %s", name);
    assert_true((index + 1) * 4 <= bytes);
    memcpy(data + 4 * index, &value, 4);
    unsigned char* out = ckpt_write(c, &size);
    expect_rejected(opt, out, size, BNB_ERR_BAD_FORMAT, needle);
    ckpt_free(c);
    free(out);
    free(file);
}

static void values_are_range_checked(void** state) {
    (void)state;
    fixture f;
    fixture_init(&f, 8, 5000, 1);
    fixture_steps(&f, 3);
    expect_value_rejected(f.opt, "p0.absmax1", 2, INFINITY, "absmax[2] = inf");
    expect_value_rejected(f.opt, "p0.absmax2", 3, -1.0f, "absmax[3] = -1");
    expect_value_rejected(f.opt, "p0.absmax2", 0, NAN, "absmax[0] = nan");
    expect_value_rejected(f.opt, "p0.clip_history", 7, -2.0f, "clip_history[7] = -2");
    expect_value_rejected(f.opt, "p0.clip_history", 9, NAN, "clip_history[9] = nan");
    fixture_free(&f);
    fixture g;
    fixture_init(&g, 32, 1000, 0);
    fixture_steps(&g, 2);
    expect_value_rejected(g.opt, "p0.state2", 5, -1.0f, "state2[5] = -1");
    expect_value_rejected(g.opt, "p0.state2", 6, NAN, "state2[6] = nan");
    expect_value_rejected(g.opt, "p0.state1", 7, INFINITY, "state1[7] = inf");
    fixture_free(&g);
}

static void header_is_parsed_strictly(void** state) {
    (void)state;
    fixture f;
    fixture_init(&f, 8, 5000, 0);
    fixture_steps(&f, 1);
    const char* versions[] = {" 1.0", "+1.0", "01.0", "1.0 ", "1.-0", "1.0x", "1"};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; ++i) {
        size_t size = 0;
        unsigned char* file = with_meta(f.opt, "format_version", versions[i], &size);
        expect_rejected(f.opt, file, size, BNB_ERR_BAD_FORMAT, "format_version");
        free(file);
    }
    /* A repeated key with the same value: the metadata (and so the header checksum) are unchanged. */
    size_t n = 0, size = 0;
    unsigned char* file = serialize_state(f.opt, &n);
    unsigned char* dup = ckpt_header_replace(file, n, "\"format_version\":\"1.0\"",
                                             "\"format_version\":\"1.0\",\"format_version\":\"1.0\"", &size);
    assert_non_null(dup);
    expect_rejected(f.opt, dup, size, BNB_ERR_BAD_FORMAT, "repeats the key 'format_version'");
    free(dup);
    free(file);
    fixture_free(&f);
}

static void fifo_and_huge_header_are_refused_quickly(void** state) {
    (void)state;
    fixture f;
    fixture_init(&f, 8, 5000, 0);
    char fifo[300];
    path_in_dir(fifo, sizeof fifo, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const pid_t child = fork();
    if (child == 0) {
        alarm(10);
        _exit(bnb_state_load(f.opt, fifo) == BNB_ERR_IO ? 0 : 1);
    }
    int status = 0;
    int waited = 0;
    while (waitpid(child, &status, WNOHANG) == 0 && waited < 3000) {
        usleep(1000);
        ++waited;
    }
    if (waited >= 3000) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        fail_msg("bnb_state_load blocked on a FIFO for 3 s");
    }
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(fifo);
    /* A 20 MB header: refused from its length alone, before it is read. */
    const size_t header = 20u << 20;
    unsigned char* file = malloc(8 + header);
    for (int i = 0; i < 8; ++i) file[i] = (unsigned char)((uint64_t)header >> (8 * i));
    memset(file + 8, ' ', header);
    memcpy(file + 8, "{\"__metadata__\":{}}", 19);
    expect_rejected(f.opt, file, 8 + header, BNB_ERR_BAD_FORMAT, "exceeds the");
    free(file);
    fixture_free(&f);
}

/* ---- truncation during a load (SIGBUS before the fix, a status now) ---- */

typedef struct truncation {
    const char* path;
    off_t to;
    useconds_t delay;
} truncation;

static void* truncate_later(void* arg) {
    const truncation* t = arg;
    usleep(t->delay);
    if (truncate(t->path, t->to) != 0) abort();
    return NULL;
}

static void truncation_during_load_is_a_status(void** state) {
    (void)state;
    fixture f;
    fixture_init(&f, 32, 4 << 20, 0); /* 32 MiB of states */
    fixture_steps(&f, 1);
    size_t n = 0;
    unsigned char* bytes = serialize_state(f.opt, &n);
    char path[300];
    path_in_dir(path, sizeof path, "truncated.bnb8");
    int in_flight = 0;
    for (int attempt = 0; attempt < 40 && in_flight < 3; ++attempt) {
        FILE* out = fopen(path, "wb");
        assert_int_equal(fwrite(bytes, 1, n, out), n);
        fclose(out);
        const pid_t child = fork();
        if (child == 0) {
            truncation t = {path, (off_t)(n / 2), (useconds_t)(attempt % 10) * 500};
            pthread_t thread;
            pthread_create(&thread, NULL, truncate_later, &t);
            const bnb_status s = bnb_state_load(f.opt, path);
            pthread_join(thread, NULL);
            _exit(s == BNB_OK ? 0 : strstr(bnb_last_error_message(), "truncated during the load") ? 2 : 1);
        }
        int status = 0;
        waitpid(child, &status, 0);
        ++g_cases;
        if (WIFSIGNALED(status)) fail_msg("the load died of signal %d when the file was truncated", WTERMSIG(status));
        in_flight += WEXITSTATUS(status) == 2;
    }
    printf("truncation: %d loads saw the file truncated while reading\n", in_flight);
    assert_true(in_flight > 0); /* the race was exercised */
    free(bytes);
    unlink(path);
    fixture_free(&f);
}

/* ---- peak memory of a load ---- */

static long status_kib(const char* field) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, strlen(field)) == 0) value = atol(line + strlen(field) + 1);
    }
    if (f != NULL) fclose(f);
    return value;
}

static void load_peak_is_about_the_state_size(void** state) {
    (void)state;
    const int64_t n = 8 << 20; /* Adam 32-bit: 64 MiB of states */
    char path[300];
    path_in_dir(path, sizeof path, "peak.bnb8");
    fixture f;
    fixture_init(&f, 32, n, 0);
    fixture_steps(&f, 1);
    assert_int_equal(bnb_state_save(f.opt, path), BNB_OK);
    fixture_free(&f);
    fixture g;
    fixture_init(&g, 32, n, 0);
    const long before = status_kib("VmRSS:");
    FILE* clear = fopen("/proc/self/clear_refs", "w");
    if (clear == NULL) skip();
    fputs("5", clear); /* resets VmHWM to the current RSS */
    fclose(clear);
    assert_int_equal(bnb_state_load(g.opt, path), BNB_OK);
    const long growth = status_kib("VmHWM:") - before;
    const long states_kib = (long)(2 * n * 4 / 1024);
    printf("load peak: %ld KiB above the %ld KiB before, for %ld KiB of states\n", growth, before, states_kib);
    assert_true(growth <= states_kib + states_kib / 8 + 8192);
    fixture_free(&g);
    unlink(path);
}

/* ---- file modes, stale temporaries, symbolic links ---- */

static void host_tag(char* out, size_t size) {
    char name[256] = {0};
    gethostname(name, sizeof name - 1);
    size_t k = 0;
    for (const char* c = name; *c && k + 1 < size && k < 64; ++c) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_') out[k++] = *c;
    }
    out[k] = 0;
    if (k == 0) snprintf(out, size, "host");
}

static void touch(const char* path, time_t age) {
    FILE* f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    if (age > 0) {
        struct timeval times[2];
        gettimeofday(&times[0], NULL);
        times[0].tv_sec -= age;
        times[1] = times[0];
        assert_int_equal(utimes(path, times), 0);
    }
}

static int exists(const char* path) { return access(path, F_OK) == 0; }

static void saves_respect_modes_and_clean_stale_temporaries(void** state) {
    (void)state;
    fixture f;
    fixture_init(&f, 8, 5000, 0);
    fixture_steps(&f, 1);
    char path[300], tmp[600], host[80];
    path_in_dir(path, sizeof path, "modes.bnb8");
    const mode_t old = umask(027);
    assert_int_equal(bnb_state_save(f.opt, path), BNB_OK);
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0640);
    umask(old);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(bnb_state_save(f.opt, path), BNB_OK);
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600); /* the replaced file's mode */

    host_tag(host, sizeof host);
    const pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char stale[600], live[600], legacy_old[600], legacy_new[600], other[600], other_host[600];
    snprintf(stale, sizeof stale, "%s.tmp-%s-%d-AbC123", path, host, (int)dead);
    snprintf(live, sizeof live, "%s.tmp-%s-%d-AbC123", path, host, (int)getpid());
    snprintf(legacy_old, sizeof legacy_old, "%s.tmp-Q1w2E3", path);
    snprintf(legacy_new, sizeof legacy_new, "%s.tmp-R4t5Y6", path);
    snprintf(other, sizeof other, "%s.tmp-%s-%d-AbC123.keep", path, host, (int)dead);
    snprintf(other_host, sizeof other_host, "%s.tmp-elsewhere-%d-AbC123", path, (int)dead);
    touch(stale, 0);
    touch(live, 0);
    touch(legacy_old, 2 * 24 * 3600);
    touch(legacy_new, 0);
    touch(other, 0);
    touch(other_host, 0);
    assert_int_equal(bnb_state_save(f.opt, path), BNB_OK);
    assert_false(exists(stale));     /* its writer is dead */
    assert_true(exists(live));       /* a writer of this process may still be at it */
    assert_false(exists(legacy_old)); /* bnb8 0.1's naming, a day old */
    assert_true(exists(legacy_new));
    assert_true(exists(other));      /* not our exact pattern */
    assert_true(exists(other_host)); /* another host's writer: only by age */
    unlink(live);
    unlink(legacy_new);
    unlink(other);
    unlink(other_host);
    (void)tmp;

    /* A symbolic link at the path is replaced; the file it pointed to is left alone. */
    char target[300], link_path[300];
    path_in_dir(target, sizeof target, "pointed_to");
    path_in_dir(link_path, sizeof link_path, "link.bnb8");
    touch(target, 0);
    assert_int_equal(symlink(target, link_path), 0);
    assert_int_equal(bnb_state_save(f.opt, link_path), BNB_OK);
    assert_int_equal(lstat(link_path, &info), 0);
    assert_true(S_ISREG(info.st_mode));
    assert_int_equal(stat(target, &info), 0);
    assert_int_equal(info.st_size, 0);
    unlink(target);
    unlink(link_path);
    unlink(path);
    fixture_free(&f);
}

/* ---- SIGKILL during a save ---- */

static void killed_saves_leave_the_previous_file(void** state) {
    (void)state;
    fixture f;
    fixture_init(&f, 32, 2 << 20, 0); /* 16 MiB of states */
    fixture_steps(&f, 1);
    char path[300];
    path_in_dir(path, sizeof path, "killed.bnb8");
    assert_int_equal(bnb_state_save(f.opt, path), BNB_OK);
    size_t good_size = 0, next_size = 0;
    unsigned char* good = serialize_state(f.opt, &good_size);
    fixture_steps(&f, 1); /* what the children save: the step after */
    unsigned char* next = serialize_state(f.opt, &next_size);
    srand(1234);
    int kills = 0, replaced = 0;
    for (int k = 0; k < 30; ++k) {
        const pid_t child = fork();
        if (child == 0) {
            for (;;) {
                if (bnb_state_save(f.opt, path) != BNB_OK) _exit(1);
            }
        }
        usleep((useconds_t)(rand() % 40000));
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        ++kills;
        /* The file is one of the two complete checkpoints, and loads. */
        FILE* in = fopen(path, "rb");
        assert_non_null(in);
        unsigned char* bytes = malloc(next_size > good_size ? next_size : good_size);
        const size_t got = fread(bytes, 1, next_size > good_size ? next_size : good_size, in);
        fclose(in);
        const int is_good = got == good_size && memcmp(bytes, good, got) == 0;
        const int is_next = got == next_size && memcmp(bytes, next, got) == 0;
        if (!is_good && !is_next) fail_msg("after kill %d the file is neither checkpoint (%zu bytes)", k, got);
        replaced += is_next;
        free(bytes);
    }
    fixture g;
    fixture_init(&g, 32, 2 << 20, 0);
    assert_int_equal(bnb_state_load(g.opt, path), BNB_OK);
    fixture_free(&g);
    /* The next save removes the temporaries the killed writers left. */
    assert_int_equal(bnb_state_save(f.opt, path), BNB_OK);
    char command[400];
    snprintf(command, sizeof command, "ls %s | grep -c tmp- >/dev/null", g_dir);
    assert_int_not_equal(system(command), 0);
    printf("kill-during-save: %d kills, %d left the new file, all others the previous one\n", kills, replaced);
    g_cases += kills;
    free(good);
    free(next);
    unlink(path);
    fixture_free(&f);
}

static int setup(void** state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/bnb8_hostile_XXXXXX");
    return mkdtemp(g_dir) == NULL;
}

static int teardown(void** state) {
    (void)state;
    printf("hostile checkpoint cases: %d\n", g_cases);
    return rmdir(g_dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(step_counter_is_bounded),
        cmocka_unit_test(values_are_range_checked),
        cmocka_unit_test(header_is_parsed_strictly),
        cmocka_unit_test(fifo_and_huge_header_are_refused_quickly),
        cmocka_unit_test(truncation_during_load_is_a_status),
        cmocka_unit_test(load_peak_is_about_the_state_size),
        cmocka_unit_test(saves_respect_modes_and_clean_stale_temporaries),
        cmocka_unit_test(killed_saves_leave_the_previous_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
