// Files for checkpoints: an atomic writer (temporary file in the target's folder, fsync, rename, fsync of
// the folder: a crash never leaves a half-written checkpoint under the real name) and a read-only
// memory map for loading without an extra copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/status.hpp"
#include "safetensors.hpp"

namespace bnb {

// Writes everything `produce` sends to the sink into `path`, atomically. On failure the temporary file
// is removed and `path` is untouched.
Status write_file_atomically(const char* path, const std::function<Status(ByteSink&)>& produce);

class MappedFile {
public:
    MappedFile() = default;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    Status open(const char* path);
    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    void* mapping_ = nullptr;
};

}  // namespace bnb
