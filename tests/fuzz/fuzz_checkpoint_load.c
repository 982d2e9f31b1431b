/* libFuzzer target for the checkpoint loader: each input is loaded into an optimizer laid out like the
 * golden checkpoint of the algorithm it names (tests/c/support/golden.h), block-wise and tensor-wise,
 * and after a successful load the optimizer takes a step with the loaded states. A failed load must
 * leave the optimizer unchanged, which the fuzzer checks through the serialized bytes.
 * Seeds: tests/data/golden_v1 and tests/fuzz/seeds. Fuzz builds skip checksum comparisons
 * (Note [fuzzing checksums] in src/serialization/checkpoint.cpp). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bnb8.h"
#include "support/golden.h"

static const void* find(const uint8_t* data, size_t size, const char* text) {
    const size_t length = strlen(text);
    for (size_t i = 0; i + length <= size; ++i) {
        if (memcmp(data + i, text, length) == 0) return data + i;
    }
    return NULL;
}

/* The serialized bytes of an optimizer, a fingerprint of its whole state. */
static unsigned char* fingerprint(const bnb_optimizer* opt, size_t* size) {
    if (bnb_state_serialized_size(opt, size) != BNB_OK) abort();
    unsigned char* bytes = malloc(*size);
    if (bytes == NULL || bnb_state_save_to_buffer(opt, bytes, *size, NULL) != BNB_OK) abort();
    return bytes;
}

/* The golden layout for the algorithm and block_wise setting the input names (Adam block-wise when it
 * names none: the parser and the early checks still run). */
static const golden_case* pick_layout(const uint8_t* data, size_t size) {
    int count = 0;
    const golden_case* cases = golden_cases(&count);
    const int tensorwise = find(data, size, "\"block_wise\":\"0\"") != NULL;
    for (int c = 0; c < count; ++c) {
        char needle[64];
        const char* name = cases[c].file;
        const size_t length = (size_t)(strchr(name, '_') - name);
        memcpy(needle, "\"algorithm\":\"", 13);
        memcpy(needle + 13, name, length);
        memcpy(needle + 13 + length, "\"", 2);
        if (cases[c].block_wise != !tensorwise || find(data, size, needle) == NULL) continue;
        return &cases[c];
    }
    return &cases[0];
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    golden_run run;
    golden_setup(pick_layout(data, size), &run);
    size_t before_size = 0, after_size = 0;
    unsigned char* before = fingerprint(run.opt, &before_size);
    if (bnb_state_load_from_buffer(run.opt, data, size) == BNB_OK) {
        (void)bnb_step(run.opt); /* the loaded states in use: any status is fine, a crash is not */
    } else {
        unsigned char* after = fingerprint(run.opt, &after_size);
        if (before_size != after_size || memcmp(before, after, before_size) != 0) abort(); /* changed on failure */
        free(after);
    }
    free(before);
    golden_teardown(&run);
    return 0;
}
