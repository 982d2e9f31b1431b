#include "quantize_blockwise.hpp"

#include <algorithm>
#include <cstdint>

#include "rules/convert.hpp"

namespace bnb {
namespace cpu {
namespace {

template <class T>
void quantize_typed(const QuantTables& q, const T* src, int64_t n, int64_t block_size, uint8_t* codes,
                    float* absmax) {
    for (int64_t begin = 0, b = 0; begin < n; begin += block_size, ++b) {
        const int64_t end = std::min(n, begin + block_size);
        float a = 0.0f;
        for (int64_t i = begin; i < end; ++i) a = absmax_accumulate(a, load_elem(src[i]));
        const BlockScale scale = block_scale(a);
        absmax[b] = scale.absmax;
        for (int64_t i = begin; i < end; ++i) codes[i] = quantize_value(q, load_elem(src[i]), scale);
    }
}

template <class T>
void dequantize_typed(const QuantTables& q, const uint8_t* codes, const float* absmax, int64_t n, int64_t block_size,
                      T* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = store_elem<T>(dequantize(q, codes[i], absmax[i / block_size]));
}

}  // namespace

void quantize_blockwise(const QuantTables& q, const void* src, bnb_dtype dtype, int64_t n, int64_t block_size,
                        uint8_t* codes, float* absmax) {
    switch (dtype) {
        case BNB_DTYPE_F32: return quantize_typed(q, static_cast<const float*>(src), n, block_size, codes, absmax);
        case BNB_DTYPE_F16: return quantize_typed(q, static_cast<const f16_t*>(src), n, block_size, codes, absmax);
        case BNB_DTYPE_BF16: return quantize_typed(q, static_cast<const bf16_t*>(src), n, block_size, codes, absmax);
    }
}

void dequantize_blockwise(const QuantTables& q, const uint8_t* codes, const float* absmax, int64_t n,
                          int64_t block_size, bnb_dtype dtype, void* dst) {
    switch (dtype) {
        case BNB_DTYPE_F32: return dequantize_typed(q, codes, absmax, n, block_size, static_cast<float*>(dst));
        case BNB_DTYPE_F16: return dequantize_typed(q, codes, absmax, n, block_size, static_cast<f16_t*>(dst));
        case BNB_DTYPE_BF16: return dequantize_typed(q, codes, absmax, n, block_size, static_cast<bf16_t*>(dst));
    }
}

}  // namespace cpu
}  // namespace bnb
