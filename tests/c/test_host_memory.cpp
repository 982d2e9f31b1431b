// Host state memory (src/core/host_memory.hpp): alignment, usable contents, and, where the kernel offers
// transparent huge pages, that a large buffer's mapping is eligible for them (the step's TLB cost
// depends on it: bench/README.md).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

extern "C" {
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
}

#include "core/host_memory.hpp"

namespace {

constexpr size_t kMiB = size_t(1) << 20;

uintptr_t address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

void small_buffers_are_cache_line_aligned(void**) {
    for (size_t bytes : {size_t(1), size_t(63), size_t(4096), 2 * kMiB - 1}) {
        void* p = bnb::host_allocate(bytes);
        assert_non_null(p);
        assert_int_equal(address(p) % 64, 0);
        std::memset(p, 0xA5, bytes);
        bnb::host_release(p);
    }
}

void large_buffers_start_on_a_huge_page(void**) {
    for (size_t bytes : {2 * kMiB, 3 * kMiB + 64, 64 * kMiB}) {
        void* p = bnb::host_allocate(bytes);
        assert_non_null(p);
        assert_int_equal(address(p) % (2 * kMiB), 0);
        unsigned char* c = static_cast<unsigned char*>(p);
        std::memset(c, 0x5A, bytes);
        assert_int_equal(c[0], 0x5A);
        assert_int_equal(c[bytes - 1], 0x5A);
        bnb::host_release(p);
    }
}

// The kernel's THP mode: "always", "madvise" or "never" (the bracketed word), or "" if unknown.
std::string thp_mode() {
    std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string line;
    if (!std::getline(in, line)) return "";
    const size_t open = line.find('['), close = line.find(']');
    if (open == std::string::npos || close == std::string::npos || close < open) return "";
    return line.substr(open + 1, close - open - 1);
}

// THPeligible of the mapping that contains p, from /proc/self/smaps: 1, 0, or -1 if not found.
int thp_eligible(const void* p) {
    std::ifstream in("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        unsigned long long begin = 0, end = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx ", &begin, &end) == 2 && line.find(' ') > line.find('-')) {
            inside = address(p) >= begin && address(p) < end;
            continue;
        }
        int eligible = 0;
        if (inside && std::sscanf(line.c_str(), "THPeligible: %d", &eligible) == 1) return eligible;
    }
    return -1;
}

void large_buffers_ask_for_huge_pages(void**) {
    const std::string mode = thp_mode();
    if (mode != "always" && mode != "madvise") {
        std::printf("SKIP: transparent huge pages are '%s' here, not always or madvise\n", mode.c_str());
        skip();
    }
    void* p = bnb::host_allocate(8 * kMiB);
    assert_non_null(p);
    std::memset(p, 0, 8 * kMiB);
    const int eligible = thp_eligible(p);
    if (eligible < 0) {
        bnb::host_release(p);
        std::printf("SKIP: this kernel's smaps has no THPeligible field\n");
        skip();
    }
    assert_int_equal(eligible, 1);
    bnb::host_release(p);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_buffers_are_cache_line_aligned),
        cmocka_unit_test(large_buffers_start_on_a_huge_page),
        cmocka_unit_test(large_buffers_ask_for_huge_pages),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
