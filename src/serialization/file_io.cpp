#include "file_io.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace bnb {
namespace {

std::string folder_of(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

class FdSink : public ByteSink {
public:
    FdSink(int fd, const std::string& path) : fd_(fd), path_(path) {}
    Status write(const void* data, size_t bytes) override {
        const char* p = static_cast<const char*>(data);
        while (bytes > 0) {
            const ssize_t n = ::write(fd_, p, bytes);
            if (n < 0 && errno == EINTR) continue;
            BNB_RETURN_IF(n < 0, BNB_ERR_IO, "writing '%s' failed: %s", path_.c_str(), std::strerror(errno));
            p += n;
            bytes -= static_cast<size_t>(n);
        }
        return Status::ok_status();
    }

private:
    int fd_;
    const std::string& path_;
};

}  // namespace

Status write_file_atomically(const char* path, const std::function<Status(ByteSink&)>& produce) {
    const std::string target(path);
    std::string temp = target + ".tmp-XXXXXX";
    const int fd = ::mkstemp(&temp[0]);
    BNB_RETURN_IF(fd < 0, BNB_ERR_IO, "cannot create a temporary file next to '%s': %s", path, std::strerror(errno));
    ::fchmod(fd, 0644);  // mkstemp creates 0600; a checkpoint is an ordinary file
    FdSink sink(fd, temp);
    Status status = produce(sink);
    if (status.ok() && ::fsync(fd) != 0) {
        status = make_error(BNB_ERR_IO, "fsync of '%s' failed: %s", temp.c_str(), std::strerror(errno));
    }
    if (::close(fd) != 0 && status.ok()) {
        status = make_error(BNB_ERR_IO, "closing '%s' failed: %s", temp.c_str(), std::strerror(errno));
    }
    if (status.ok() && ::rename(temp.c_str(), path) != 0) {
        status = make_error(BNB_ERR_IO, "renaming '%s' to '%s' failed: %s", temp.c_str(), path, std::strerror(errno));
    }
    if (!status.ok()) {
        ::unlink(temp.c_str());
        return status;
    }
    // Make the rename itself durable.
    const int dir = ::open(folder_of(target).c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return Status::ok_status();
}

MappedFile::~MappedFile() {
    if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

Status MappedFile::open(const char* path) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    BNB_RETURN_IF(fd < 0, BNB_ERR_IO, "cannot open '%s': %s", path, std::strerror(errno));
    struct stat info;
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        const int error = errno;
        ::close(fd);
        return make_error(BNB_ERR_IO, "'%s' is not a readable regular file%s%s", path, error ? ": " : "",
                          error ? std::strerror(error) : "");
    }
    size_ = static_cast<size_t>(info.st_size);
    if (size_ == 0) {
        ::close(fd);
        data_ = nullptr;
        return Status::ok_status();
    }
    void* mapping = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    const int error = errno;
    ::close(fd);
    BNB_RETURN_IF(mapping == MAP_FAILED, BNB_ERR_IO, "cannot map '%s': %s", path, std::strerror(error));
    mapping_ = mapping;
    data_ = static_cast<const uint8_t*>(mapping);
    return Status::ok_status();
}

}  // namespace bnb
