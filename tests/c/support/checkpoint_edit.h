/* A checkpoint editor for tests and the structure-aware fuzzer: parses a bnb8 checkpoint (safetensors),
 * lets a test change metadata and tensor bytes, and writes it back with every checksum recomputed as
 * src/serialization/FORMAT.md defines them (an independent implementation of that text, so a hostile
 * file can be crafted that passes every checksum). */
#ifndef BNB_TEST_CHECKPOINT_EDIT_H
#define BNB_TEST_CHECKPOINT_EDIT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ckpt ckpt;

/* NULL when the bytes are not a parseable safetensors file. */
ckpt* ckpt_parse(const unsigned char* data, size_t size);
void ckpt_free(ckpt* c);
/* NULL when absent; valid until the entry changes. */
const char* ckpt_meta(const ckpt* c, const char* key);
void ckpt_set_meta(ckpt* c, const char* key, const char* value);
size_t ckpt_meta_count(const ckpt* c);
const char* ckpt_meta_key(const ckpt* c, size_t i);
size_t ckpt_tensor_count(const ckpt* c);
const char* ckpt_tensor_name(const ckpt* c, size_t i);
/* Mutable bytes of tensor `name` (NULL when absent); *bytes receives their count. */
unsigned char* ckpt_tensor_data(ckpt* c, const char* name, size_t* bytes);
/* The file, checksums recomputed (malloc'ed). */
unsigned char* ckpt_write(const ckpt* c, size_t* size);
/* `file` with the first `find` in its JSON header replaced by `replace`, the length and padding fixed
 * (malloc'ed; NULL when `find` is not in the header). Checksums are left as they are. */
unsigned char* ckpt_header_replace(const unsigned char* file, size_t size, const char* find, const char* replace,
                                   size_t* out_size);

#ifdef __cplusplus
}
#endif

#endif
