// Stand-alone block-wise quantization with the same rule as the 8-bit states (bnb_quantize_blockwise).
#pragma once

#include <cstdint>

#include "bnb8.h"
#include "rules/quant.hpp"

namespace bnb {
namespace cpu {

// src holds n elements of `dtype`; writes n codes and ceil(n / block_size) absmax values.
void quantize_blockwise(const QuantTables& q, const void* src, bnb_dtype dtype, int64_t n, int64_t block_size,
                        uint8_t* codes, float* absmax);

// dst receives n elements of `dtype`: map[code] * absmax[i / block_size], rounded once to the dtype.
void dequantize_blockwise(const QuantTables& q, const uint8_t* codes, const float* absmax, int64_t n,
                          int64_t block_size, bnb_dtype dtype, void* dst);

}  // namespace cpu
}  // namespace bnb
