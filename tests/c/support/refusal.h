/* "A refused call": the contract of bnb8.h for every failing call is an error status, a thread-local
 * message that says what was wrong, and an optimizer left exactly as it was. This helper checks all
 * three, the last through the optimizer's serialized bytes (its complete saved state). The verdict form
 * uses no CMocka, so forked children of the argument sweep can use it; assert_refused() is the CMocka
 * form for ordinary tests. */
#ifndef BNB_TEST_REFUSAL_H
#define BNB_TEST_REFUSAL_H

#include <stddef.h>

#include "bnb8.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `expected` value meaning "any status but BNB_OK". */
#define REFUSAL_ANY_ERROR (-1)

/* The serialized state of an optimizer before a call that must be refused. */
typedef struct refusal_snapshot {
    unsigned char* bytes; /* NULL when there is no optimizer to compare */
    size_t size;
} refusal_snapshot;

/* Takes the snapshot (opt may be NULL: nothing to compare). Returns 0, or -1 when serializing failed. */
int refusal_snapshot_take(const bnb_optimizer* opt, refusal_snapshot* out);
void refusal_snapshot_free(refusal_snapshot* snapshot);

/* Checks the refusal of a call that returned `got`: `got` is `expected` (a bnb_status, or
 * REFUSAL_ANY_ERROR), the message is non-empty and contains `needle` (when not NULL), and `opt`
 * serializes to the snapshot's bytes. Returns NULL when all holds, else a description of the first
 * violation (a static buffer, valid until the next call; not thread-safe). Reads the message before anything else
 * can replace it. */
const char* refusal_verdict(const refusal_snapshot* before, const bnb_optimizer* opt, bnb_status got, int expected,
                            const char* needle);

/* refusal_verdict() as a CMocka assertion. */
void assert_refused(const refusal_snapshot* before, const bnb_optimizer* opt, bnb_status got, int expected,
                    const char* needle);

#ifdef __cplusplus
}
#endif

#endif
