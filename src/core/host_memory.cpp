#include "host_memory.hpp"

#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace bnb {
namespace {

constexpr size_t kCacheLine = 64;
constexpr size_t kHugePage = size_t(2) << 20;

}  // namespace

void* host_allocate(size_t bytes) {
    // A buffer of at least one huge page starts on a huge-page boundary, so all its whole 2 MiB spans can
    // be huge pages; glibc serves such sizes from their own mapping, and the skipped head is never touched.
    const size_t alignment = bytes >= kHugePage ? kHugePage : kCacheLine;
    void* data = nullptr;
    if (posix_memalign(&data, alignment, bytes) != 0) return nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Advice only: if the kernel has huge pages disabled, or none to give, the pages stay 4 KiB.
    if (alignment == kHugePage) (void)madvise(data, bytes, MADV_HUGEPAGE);
#endif
    return data;
}

void host_release(void* data) noexcept { std::free(data); }

}  // namespace bnb
