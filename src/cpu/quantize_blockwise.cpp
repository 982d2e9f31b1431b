#include "quantize_blockwise.hpp"

#include <algorithm>

#include "rules/convert.hpp"

namespace bnb {
namespace cpu {
namespace {

template <class T>
void quantize_typed(const QuantTables& q, const T* src, int64_t n, uint8_t* codes, float* absmax) {
    float block[kBlockSize];
    for (int64_t b = 0; b < num_blocks(n); ++b) {
        const int64_t begin = b * kBlockSize;
        const int len = static_cast<int>(std::min<int64_t>(kBlockSize, n - begin));
        float a = 0.0f;
        for (int i = 0; i < len; ++i) {
            block[i] = load_elem(src[begin + i]);
            a = absmax_accumulate(a, block[i]);
        }
        const BlockScale scale = block_scale(a);
        absmax[b] = scale.absmax;
        for (int i = 0; i < len; ++i) codes[begin + i] = quantize_value(q, block[i], scale);
    }
}

template <class T>
void dequantize_typed(const QuantTables& q, const uint8_t* codes, const float* absmax, int64_t n, T* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = store_elem<T>(dequantize(q, codes[i], absmax[i / kBlockSize]));
}

}  // namespace

void quantize_blockwise(const QuantTables& q, const void* src, bnb_dtype dtype, int64_t n, uint8_t* codes,
                        float* absmax) {
    switch (dtype) {
        case BNB_DTYPE_F32: return quantize_typed(q, static_cast<const float*>(src), n, codes, absmax);
        case BNB_DTYPE_F16: return quantize_typed(q, static_cast<const f16_t*>(src), n, codes, absmax);
        case BNB_DTYPE_BF16: return quantize_typed(q, static_cast<const bf16_t*>(src), n, codes, absmax);
    }
}

void dequantize_blockwise(const QuantTables& q, const uint8_t* codes, const float* absmax, int64_t n,
                          bnb_dtype dtype, void* dst) {
    switch (dtype) {
        case BNB_DTYPE_F32: return dequantize_typed(q, codes, absmax, n, static_cast<float*>(dst));
        case BNB_DTYPE_F16: return dequantize_typed(q, codes, absmax, n, static_cast<f16_t*>(dst));
        case BNB_DTYPE_BF16: return dequantize_typed(q, codes, absmax, n, static_cast<bf16_t*>(dst));
    }
}

}  // namespace cpu
}  // namespace bnb
