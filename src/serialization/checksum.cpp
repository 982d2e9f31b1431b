#include "checksum.hpp"

#define XXH_INLINE_ALL  // header-only: no runtime dependency on libxxhash
#include <xxhash.h>

#include <cstdio>

namespace bnb {

uint64_t checksum64(const void* data, size_t bytes) { return XXH3_64bits(data, bytes); }

std::string checksum_hex(uint64_t value) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return std::string(text, 16);
}

}  // namespace bnb
