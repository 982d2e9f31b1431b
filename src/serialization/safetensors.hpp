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

// Readers such as the Rust safetensors crate refuse larger headers.
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

struct TensorIn {
    std::string dtype;
    std::vector<int64_t> shape;
    const uint8_t* data;
    size_t bytes;
};

struct SafetensorsView {
    std::map<std::string, std::string> metadata;
    std::map<std::string, TensorIn> tensors;
};

// Parses and validates the container (header bounds, JSON, entry types, dtype sizes against shapes,
// offsets inside the file, contiguous and complete coverage). Views point into `data`.
Status parse_safetensors(const uint8_t* data, size_t size, SafetensorsView* out);

// Bytes per element of a safetensors dtype name, 0 when unknown.
size_t safetensors_dtype_size(const std::string& dtype);

}  // namespace bnb
