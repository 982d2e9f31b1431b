// Checksums of checkpoint tensors and headers: XXH3-64 (Debian's xxhash, used header-only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bnb {

uint64_t checksum64(const void* data, size_t bytes);

// 16 lowercase hex digits.
std::string checksum_hex(uint64_t value);

}  // namespace bnb
