// extern "C" shims for the built-in maps and the stand-alone block-wise (de)quantization, with the
// built-in maps and 256-element blocks of the states, or any valid map and block size.
#include <memory>

#include "bnb8.h"
#include "boundary.hpp"
#include "core/fp_env.hpp"
#include "core/qmap.hpp"
#include "core/tensor.hpp"
#include "cpu/quantize_blockwise.hpp"

using bnb::Status;
using bnb::api::guarded;

namespace {

Status check_kind(int32_t kind) {
    BNB_RETURN_IF(kind != BNB_QMAP_SIGNED && kind != BNB_QMAP_UNSIGNED, BNB_ERR_INVALID_ARGUMENT,
                  "kind = %d is not a bnb_qmap_kind", kind);
    return Status::ok_status();
}

// The quantization primitives run on the host: a CUDA tensor is rejected before its pointer is used.
Status check_cpu_tensor(const bnb_tensor* t, const char* name) {
    BNB_RETURN_IF(t != nullptr && t->device >= 0, BNB_ERR_INVALID_ARGUMENT,
                  "%s->device = %d: the quantization functions take CPU tensors", name, t->device);
    return bnb::check_tensor(t, name);
}

// A caller's map, validated: signed when its first entry is negative, unsigned when it is +0.0.
Status caller_map(const float* values, std::shared_ptr<const bnb::QuantMap>* out) {
    BNB_RETURN_IF(values == nullptr, BNB_ERR_INVALID_ARGUMENT, "map is NULL");
    const bnb_qmap_kind kind = values[0] < 0.0f ? BNB_QMAP_SIGNED : BNB_QMAP_UNSIGNED;
    return bnb::QuantMap::create(values, kind, "map", out);
}

Status quantize(const bnb::QuantMap& map, const bnb_tensor* src, int64_t block_size, uint8_t* codes, float* absmax) {
    BNB_FORWARD(check_cpu_tensor(src, "src"));
    BNB_RETURN_IF(block_size < 1, BNB_ERR_INVALID_ARGUMENT, "block_size = %lld must be >= 1",
                  static_cast<long long>(block_size));
    BNB_RETURN_IF(src->numel > 0 && codes == nullptr, BNB_ERR_INVALID_ARGUMENT, "codes is NULL");
    BNB_RETURN_IF(src->numel > 0 && absmax == nullptr, BNB_ERR_INVALID_ARGUMENT, "absmax is NULL");
    bnb::FpEnvGuard fp_env;
    bnb::cpu::quantize_blockwise(map.tables(), src->data, static_cast<bnb_dtype>(src->dtype), src->numel, block_size,
                                 codes, absmax);
    return Status::ok_status();
}

Status dequantize(const bnb::QuantMap& map, const uint8_t* codes, const float* absmax, int64_t block_size,
                  bnb_tensor* dst) {
    BNB_FORWARD(check_cpu_tensor(dst, "dst"));
    BNB_RETURN_IF(block_size < 1, BNB_ERR_INVALID_ARGUMENT, "block_size = %lld must be >= 1",
                  static_cast<long long>(block_size));
    BNB_RETURN_IF(dst->numel > 0 && codes == nullptr, BNB_ERR_INVALID_ARGUMENT, "codes is NULL");
    BNB_RETURN_IF(dst->numel > 0 && absmax == nullptr, BNB_ERR_INVALID_ARGUMENT, "absmax is NULL");
    bnb::FpEnvGuard fp_env;
    bnb::cpu::dequantize_blockwise(map.tables(), codes, absmax, dst->numel, block_size,
                                   static_cast<bnb_dtype>(dst->dtype), dst->data);
    return Status::ok_status();
}

}  // namespace

extern "C" bnb_status bnb_qmap_copy(int32_t kind, float* dst) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_kind(kind));
        BNB_RETURN_IF(dst == nullptr, BNB_ERR_INVALID_ARGUMENT, "dst is NULL");
        const float* values = bnb::QuantMap::builtin(static_cast<bnb_qmap_kind>(kind))->values();
        for (int i = 0; i < bnb::kMapSize; ++i) dst[i] = values[i];
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_quantize_blockwise(int32_t kind, const bnb_tensor* src, uint8_t* codes, float* absmax) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_kind(kind));
        return quantize(*bnb::QuantMap::builtin(static_cast<bnb_qmap_kind>(kind)), src, bnb::kBlockSize, codes, absmax);
    });
}

extern "C" bnb_status bnb_dequantize_blockwise(int32_t kind, const uint8_t* codes, const float* absmax,
                                               bnb_tensor* dst) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_kind(kind));
        return dequantize(*bnb::QuantMap::builtin(static_cast<bnb_qmap_kind>(kind)), codes, absmax, bnb::kBlockSize,
                          dst);
    });
}

extern "C" bnb_status bnb_quantize_blockwise_ex(const float* map, const bnb_tensor* src, int64_t block_size,
                                                uint8_t* codes, float* absmax) {
    return guarded(__func__, [&]() -> Status {
        std::shared_ptr<const bnb::QuantMap> m;
        BNB_FORWARD(caller_map(map, &m));
        return quantize(*m, src, block_size, codes, absmax);
    });
}

extern "C" bnb_status bnb_dequantize_blockwise_ex(const float* map, const uint8_t* codes, const float* absmax,
                                                  int64_t block_size, bnb_tensor* dst) {
    return guarded(__func__, [&]() -> Status {
        std::shared_ptr<const bnb::QuantMap> m;
        BNB_FORWARD(caller_map(map, &m));
        return dequantize(*m, codes, absmax, block_size, dst);
    });
}
