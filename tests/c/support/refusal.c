#include "refusal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int serialize(const bnb_optimizer* opt, unsigned char** bytes, size_t* size) {
    *bytes = NULL;
    *size = 0;
    if (bnb_state_serialized_size(opt, size) != BNB_OK) return -1;
    *bytes = malloc(*size ? *size : 1);
    size_t written = 0;
    if (*bytes == NULL || bnb_state_save_to_buffer(opt, *bytes, *size, &written) != BNB_OK || written != *size) {
        free(*bytes);
        *bytes = NULL;
        return -1;
    }
    return 0;
}

int refusal_snapshot_take(const bnb_optimizer* opt, refusal_snapshot* out) {
    out->bytes = NULL;
    out->size = 0;
    if (opt == NULL) return 0;
    return serialize(opt, &out->bytes, &out->size);
}

void refusal_snapshot_free(refusal_snapshot* snapshot) {
    free(snapshot->bytes);
    snapshot->bytes = NULL;
    snapshot->size = 0;
}

static char g_verdict[1024]; /* not thread-safe: one verdict at a time */

const char* refusal_verdict(const refusal_snapshot* before, const bnb_optimizer* opt, bnb_status got, int expected,
                            const char* needle) {
    char message[512];
    snprintf(message, sizeof message, "%s", bnb_last_error_message());
    const int status_ok = expected == REFUSAL_ANY_ERROR ? got != BNB_OK : (int)got == expected;
    if (!status_ok) {
        snprintf(g_verdict, sizeof g_verdict, "returned %d, expected %s%d (message: \"%s\")", (int)got,
                 expected == REFUSAL_ANY_ERROR ? "an error, not " : "", expected == REFUSAL_ANY_ERROR ? 0 : expected,
                 message);
        return g_verdict;
    }
    if (message[0] == '\0') {
        snprintf(g_verdict, sizeof g_verdict, "returned %d with an empty message", (int)got);
        return g_verdict;
    }
    if (needle != NULL && strstr(message, needle) == NULL) {
        snprintf(g_verdict, sizeof g_verdict, "message \"%s\" lacks \"%s\"", message, needle);
        return g_verdict;
    }
    if (before->bytes != NULL && opt != NULL) {
        unsigned char* after = NULL;
        size_t after_size = 0;
        if (serialize(opt, &after, &after_size) != 0) {
            snprintf(g_verdict, sizeof g_verdict, "the optimizer no longer serializes after the refusal (%s)",
                     bnb_last_error_message());
            return g_verdict;
        }
        const int same = after_size == before->size && memcmp(after, before->bytes, after_size) == 0;
        free(after);
        if (!same) {
            snprintf(g_verdict, sizeof g_verdict,
                     "the refused call changed the optimizer's serialized state (%zu bytes before, %zu after)",
                     before->size, after_size);
            return g_verdict;
        }
    }
    return NULL;
}

void assert_refused(const refusal_snapshot* before, const bnb_optimizer* opt, bnb_status got, int expected,
                    const char* needle) {
    const char* verdict = refusal_verdict(before, opt, got, expected, needle);
    if (verdict != NULL) fail_msg("refused call: %s", verdict);
}
