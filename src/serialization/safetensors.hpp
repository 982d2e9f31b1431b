// The safetensors container (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header (tensor name -> dtype, shape, data_offsets, plus a "__metadata__" map of
// strings) padded with spaces to a multiple of 8, then the tensors' bytes, contiguous and in offset
// order. Any safetensors reader opens what this writes; the reader validates every structural rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace bnb {

// Readers such as the Rust safetensors crate refuse larger headers; a caller of parse_safetensors()
// passes its own, usually much smaller, bound (a bnb8 checkpoint's follows from the optimizer).
constexpr size_t kMaxSafetensorsHeader = 100000000;

struct TensorOut {
    std::string name;
    std::string dtype;  // "F32", "U8", ...
    std::vector<int64_t> shape;
    const void* data;
    size_t bytes;
};

// A file ready to be written: the prefix (length + JSON + padding) and the tensors in data order.
struct SafetensorsPlan {
    std::string prefix;
    std::vector<TensorOut> tensors;
    size_t total_size = 0;
};

Status plan_safetensors(const std::map<std::string, std::string>& metadata, std::vector<TensorOut> tensors,
                        SafetensorsPlan* out);

// Destination of a plan's bytes: a caller buffer or a file.
class ByteSink {
public:
    virtual ~ByteSink() = default;
    virtual Status write(const void* data, size_t bytes) = 0;
};

Status write_safetensors(const SafetensorsPlan& plan, ByteSink& sink);

// Where bytes are read from: a caller's buffer or a file read with pread (never a memory map, so a file
// truncated during a load gives a status instead of SIGBUS). read() fills `dst` completely or fails.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual uint64_t size() const = 0;
    virtual Status read(uint64_t offset, void* dst, size_t bytes) const = 0;
};

class MemorySource : public ByteSource {
public:
    MemorySource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    uint64_t size() const override { return size_; }
    Status read(uint64_t offset, void* dst, size_t bytes) const override;

private:
    const uint8_t* data_;
    size_t size_;
};

struct TensorIn {
    std::string dtype;
    std::vector<int64_t> shape;
    uint64_t offset;  // of the first byte, from the start of the source
    size_t bytes;
};

struct SafetensorsView {
    std::map<std::string, std::string> metadata;
    std::map<std::string, TensorIn> tensors;
};

// Reads and validates the container (header length against `max_header` before anything is allocated,
// strict JSON without duplicate keys, entry types, dtype sizes against shapes, offsets inside the source,
// contiguous and complete coverage). Only the header is read; tensors are read later through `source`.
Status parse_safetensors(const ByteSource& source, size_t max_header, SafetensorsView* out);

// Bytes per element of a safetensors dtype name, 0 when unknown.
size_t safetensors_dtype_size(const std::string& dtype);

}  // namespace bnb
