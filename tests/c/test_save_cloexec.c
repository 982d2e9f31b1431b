#define _GNU_SOURCE
/* A checkpoint save's temporary file descriptor does not leak into a program exec'd while the save is
 * running (issue 13, finding 7: O_CLOEXEC on the temporary's fd).
 *
 * How the test gets inside the save: it defines fsync(). The linker exports an executable's definition
 * of a symbol that a shared library it links (libbnb8.so) references, so the library's fsync of the
 * temporary comes here; the hook forwards to the C library's fsync afterwards. In the hook, with the
 * temporary open in the library, it checks that the descriptor has FD_CLOEXEC and forks a child that
 * execs this program in "--count-temporaries" mode, which counts the descriptors it inherited that name
 * a checkpoint temporary (/proc/self/fd). A control with a dup() of the descriptor (dup never sets
 * FD_CLOEXEC) shows that the counting child does see a leaked descriptor. The test fails if the hook
 * never saw the temporary (the interposition did not happen), so it cannot pass vacuously. */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "bnb8.h"
#include "support/optim_helpers.h"

#define TEMP_MARK ".tmp-" /* Note [temporary files] in src/serialization/file_io.hpp */

static int g_armed;        /* the hook checks only during the test's saves */
static int g_leak_control; /* also hand the child an inheritable dup() of the temporary */
static int g_temp_seen;    /* fsyncs of a checkpoint temporary seen by the hook */
static int g_not_cloexec;  /* ... whose descriptor lacked FD_CLOEXEC */
static int g_child_counts; /* temporaries the exec'd children found, summed */
static int g_child_errors; /* children that could not run */

static int names_temporary(int fd) {
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = '\0';
    return strstr(target, TEMP_MARK) != NULL;
}

/* In the exec'd child: the number of open descriptors that name a checkpoint temporary. */
static int count_temporaries(void) {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == NULL) return 100;
    int count = 0;
    const int own = dirfd(dir);
    for (struct dirent* d = readdir(dir); d != NULL; d = readdir(dir)) {
        if (d->d_name[0] == '.') continue;
        const int fd = atoi(d->d_name);
        if (fd != own && names_temporary(fd)) {
            fprintf(stderr, "inherited descriptor %d names a checkpoint temporary\n", fd);
            ++count;
        }
    }
    closedir(dir);
    return count;
}

static void exec_counting_child(void) {
    const pid_t pid = fork();
    if (pid < 0) {
        ++g_child_errors;
        return;
    }
    if (pid == 0) {
        char* const args[] = {(char*)"test_save_cloexec", (char*)"--count-temporaries", NULL};
        execv("/proc/self/exe", args);
        _exit(100);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) >= 100) {
        ++g_child_errors;
        return;
    }
    g_child_counts += WEXITSTATUS(status);
}

int fsync(int fd) {
    static int (*real_fsync)(int) = NULL;
    if (real_fsync == NULL) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (g_armed && names_temporary(fd)) {
        ++g_temp_seen;
        const int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || (flags & FD_CLOEXEC) == 0) ++g_not_cloexec;
        const int leaked = g_leak_control ? dup(fd) : -1;
        exec_counting_child();
        if (leaked >= 0) close(leaked);
    }
    return real_fsync(fd);
}

static bnb_optimizer* small_optimizer(test_buffer* p, test_buffer* g) {
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 8, 1, 1e-3, -1, 0);
    *p = buffer_alloc(1000, BNB_DTYPE_F32);
    *g = buffer_alloc(1000, BNB_DTYPE_F32);
    test_rng rng;
    rng_seed(&rng, 1);
    fill_normal(&rng, g, 0.01);
    add_param(opt, p, g);
    assert_int_equal(bnb_step(opt), BNB_OK);
    return opt;
}

static void save_with_hook(int leak_control) {
    char dir[] = "/tmp/bnb8_cloexec_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    test_buffer p, g;
    bnb_optimizer* opt = small_optimizer(&p, &g);
    g_temp_seen = g_not_cloexec = g_child_counts = g_child_errors = 0;
    g_leak_control = leak_control;
    g_armed = 1;
    const bnb_status status = bnb_state_save(opt, path);
    g_armed = 0;
    assert_int_equal(status, BNB_OK);
    bnb_optimizer_destroy(opt);
    buffer_free(&p);
    buffer_free(&g);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    if (g_temp_seen == 0) fail_msg("the fsync hook never saw the save's temporary: the interposition failed");
    assert_int_equal(g_child_errors, 0);
}

static void save_temporary_is_close_on_exec(void** state) {
    (void)state;
    save_with_hook(0);
    assert_int_equal(g_not_cloexec, 0);
    assert_int_equal(g_child_counts, 0); /* no exec'd child saw the temporary */
}

static void the_counting_child_sees_an_inherited_descriptor(void** state) {
    (void)state;
    save_with_hook(1);
    assert_int_equal(g_child_counts, g_temp_seen); /* each child found exactly the dup() */
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "--count-temporaries") == 0) return count_temporaries();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_temporary_is_close_on_exec),
        cmocka_unit_test(the_counting_child_sees_an_inherited_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
