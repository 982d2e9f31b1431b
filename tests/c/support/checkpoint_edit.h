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
/* Structure edits (the fuzzer's mutator): tensors by index, in data order. */
void ckpt_remove_meta(ckpt* c, const char* key);
const char* ckpt_tensor_dtype(const ckpt* c, size_t i);
void ckpt_tensor_set_dtype(ckpt* c, size_t i, const char* dtype);
size_t ckpt_tensor_rank(const ckpt* c, size_t i);
long long ckpt_tensor_dim(const ckpt* c, size_t i, size_t d);
void ckpt_tensor_set_shape(ckpt* c, size_t i, const long long* dims, size_t rank);
unsigned char* ckpt_tensor_bytes(ckpt* c, size_t i, size_t* bytes);
/* New bytes are zero. */
void ckpt_tensor_resize(ckpt* c, size_t i, size_t bytes);
void ckpt_tensor_rename(ckpt* c, size_t i, const char* name);
void ckpt_tensor_remove(ckpt* c, size_t i);
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
