#include "file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
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

// Host name as it goes into temporary names: letters, digits, '.' and '_' only (a '-' would make the name
// ambiguous to parse), at most 64 characters.
std::string host_tag() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
    std::string tag;
    for (const char* c = name; *c != '\0' && tag.size() < 64; ++c) {
        if (std::isalnum(static_cast<unsigned char>(*c)) || *c == '.' || *c == '_') tag += *c;
    }
    return tag.empty() ? std::string("host") : tag;
}

bool all_of(const std::string& text, size_t begin, size_t end, int (*accept)(int)) {
    if (begin >= end) return false;
    for (size_t i = begin; i < end; ++i) {
        if (!accept(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
}

int is_host_char(int c) { return std::isalnum(c) || c == '.' || c == '_'; }

constexpr time_t kStaleTempAge = 24 * 60 * 60;

// Note [temporary files]: whether `name` (in the target's folder) is a temporary of `base` (the target's
// file name) whose writer is gone. Only our exact patterns qualify: "<base>.tmp-<host>-<pid>-XXXXXX" and
// bnb8 0.1's "<base>.tmp-XXXXXX".
bool is_stale_temp(const std::string& base, const std::string& name, const struct stat& info, time_t now,
                   const std::string& host) {
    const std::string lead = base + ".tmp-";
    if (name.size() <= lead.size() || name.compare(0, lead.size(), lead) != 0 || !S_ISREG(info.st_mode)) return false;
    const bool old = now - info.st_mtime > kStaleTempAge;
    const std::string rest = name.substr(lead.size());
    if (rest.size() == 6 && all_of(rest, 0, 6, std::isalnum)) return old;  // bnb8 0.1: the writer is unknown
    // <host>-<pid>-XXXXXX
    if (rest.size() < 10 || rest[rest.size() - 7] != '-' || !all_of(rest, rest.size() - 6, rest.size(), std::isalnum)) {
        return false;
    }
    const size_t pid_end = rest.size() - 7;
    const size_t dash = rest.rfind('-', pid_end - 1);
    if (dash == std::string::npos || !all_of(rest, dash + 1, pid_end, std::isdigit) || pid_end - dash - 1 > 9 ||
        !all_of(rest, 0, dash, is_host_char)) {
        return false;
    }
    if (old) return true;
    if (rest.compare(0, dash, host) != 0 || dash != host.size()) return false;  // another host: only by age
    const long pid = std::strtol(rest.c_str() + dash + 1, nullptr, 10);
    return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// Removes the stale temporaries of `target` (best effort: a folder that cannot be listed is left alone).
void remove_stale_temps(const std::string& target, const std::string& host) {
    const std::string folder = folder_of(target);
    const size_t slash = target.find_last_of('/');
    const std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
    DIR* dir = ::opendir(folder.c_str());
    if (dir == nullptr) return;
    const time_t now = ::time(nullptr);
    while (const struct dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        struct stat info;
        if (::fstatat(::dirfd(dir), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (is_stale_temp(base, name, info, now, host)) ::unlinkat(::dirfd(dir), name.c_str(), 0);
    }
    ::closedir(dir);
}

// Creates "<prefix>XXXXXX" exclusively, mode 0666 minus the umask, close-on-exec.
int create_temp(const std::string& prefix, std::string* path) {
    static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < 100; ++attempt) {
        unsigned char noise[6];
        if (::getentropy(noise, sizeof noise) != 0) return -1;
        std::string name = prefix;
        for (unsigned char b : noise) name += kChars[b % (sizeof kChars - 1)];
        const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) {
            *path = name;
            return fd;
        }
    }
    errno = EEXIST;
    return -1;
}

}  // namespace

std::string temp_file_prefix(const std::string& path) {
    return path + ".tmp-" + host_tag() + "-" + std::to_string(static_cast<long>(::getpid())) + "-";
}

Status write_file_atomically(const char* path, const std::function<Status(ByteSink&)>& produce) {
    const std::string target(path);
    remove_stale_temps(target, host_tag());
    std::string temp;
    const int fd = create_temp(temp_file_prefix(target), &temp);
    BNB_RETURN_IF(fd < 0, BNB_ERR_IO, "cannot create a temporary file next to '%s': %s", path, std::strerror(errno));
    // A file replaced keeps its permissions (its owner only if we are it); a new one gets 0666 & ~umask
    // from open(). A failing fchmod leaves the umask's mode, which is still a valid checkpoint.
    struct stat replaced;
    if (::lstat(path, &replaced) == 0 && S_ISREG(replaced.st_mode)) (void)::fchmod(fd, replaced.st_mode & 07777);
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
    const int dir = ::open(folder_of(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return Status::ok_status();
}

FileSource::~FileSource() {
    if (fd_ >= 0) ::close(fd_);
}

Status FileSource::open(const char* path) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    BNB_RETURN_IF(fd < 0, BNB_ERR_IO, "cannot open '%s': %s", path, std::strerror(errno));
    struct stat info;
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        const int error = errno;
        ::close(fd);
        return make_error(BNB_ERR_IO, "'%s' is not a readable regular file%s%s", path, error ? ": " : "",
                          error ? std::strerror(error) : "");
    }
    fd_ = fd;
    size_ = static_cast<uint64_t>(info.st_size);
    path_ = path;
    return Status::ok_status();
}

Status FileSource::read(uint64_t offset, void* dst, size_t bytes) const {
    char* out = static_cast<char*>(dst);
    while (bytes > 0) {
        const size_t chunk = bytes < (size_t{1} << 30) ? bytes : (size_t{1} << 30);
        const ssize_t n = ::pread(fd_, out, chunk, static_cast<off_t>(offset));
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        BNB_RETURN_IF(n < 0, BNB_ERR_IO, "reading '%s' at byte %llu failed: %s", path_.c_str(),
                      static_cast<unsigned long long>(offset), std::strerror(errno));
        BNB_RETURN_IF(n == 0, BNB_ERR_IO,
                      "'%s' ends at byte %llu, before the %llu bytes it had when opened: it was truncated during "
                      "the load",
                      path_.c_str(), static_cast<unsigned long long>(offset), static_cast<unsigned long long>(size_));
        out += n;
        offset += static_cast<uint64_t>(n);
        bytes -= static_cast<size_t>(n);
    }
    return Status::ok_status();
}

}  // namespace bnb
