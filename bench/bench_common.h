/* What the C benchmarks share: a monotonic clock and the exit-on-failure check of a bnb8 call (a
 * benchmark has nothing to recover; it prints the library's message and stops). */
#ifndef BNB8_BENCH_COMMON_H
#define BNB8_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bnb8.h"

static inline double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline void check(bnb_status status, const char* what) {
    if (status != BNB_OK) {
        fprintf(stderr, "%s failed: %s\n%s\n", what, bnb_status_string(status), bnb_last_error_message());
        exit(1);
    }
}

#endif
