// Files for checkpoints: an atomic writer (temporary file in the target's folder, fsync, rename, fsync of
// the folder: a crash never leaves a half-written checkpoint under the real name) and a reader that
// copies with pread (no memory map: a file truncated by another process during a load is a status, not
// SIGBUS).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "core/status.hpp"
#include "safetensors.hpp"

namespace bnb {

// Writes everything `produce` sends to the sink into `path`, atomically. On failure the temporary file
// is removed and `path` is untouched. Note [temporary files]: the temporary is
// "<path>.tmp-<host>-<pid>-<6 random characters>", created with mode 0666 minus the umask (the mode of
// the file it replaces when `path` is a regular file already) and O_CLOEXEC. Before writing, temporaries
// of the same `path` left by a writer that was killed are removed: those of a process of this host that
// no longer exists, and any older than a day (a writer on another host, or the "<path>.tmp-XXXXXX"
// temporaries of bnb8 0.1). `path` itself is replaced, not followed: a symbolic link there is replaced by
// the new regular file, and the file it pointed to is left as it was.
Status write_file_atomically(const char* path, const std::function<Status(ByteSink&)>& produce);

// The temporary-file name write_file_atomically() would use for `path`, without the random suffix
// ("<path>.tmp-<host>-<pid>-"), for tests.
std::string temp_file_prefix(const std::string& path);

// A regular file open for reading. open() refuses anything else (a FIFO, a device, a folder) without
// blocking: the file is opened with O_NONBLOCK and checked with fstat before any byte is read.
class FileSource : public ByteSource {
public:
    FileSource() = default;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;
    ~FileSource() override;

    Status open(const char* path);
    uint64_t size() const override { return size_; }
    // Fails with BNB_ERR_IO when the file ends early (it was truncated after open()).
    Status read(uint64_t offset, void* dst, size_t bytes) const override;

private:
    int fd_ = -1;
    uint64_t size_ = 0;
    std::string path_;
};

}  // namespace bnb
