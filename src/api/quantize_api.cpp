// extern "C" shims for the built-in maps and the stand-alone block-wise (de)quantization.
#include "bnb8.h"
#include "boundary.hpp"
#include "core/qmap.hpp"
#include "core/tensor.hpp"
#include "cpu/fp_env.hpp"
#include "cpu/quantize_blockwise.hpp"

using bnb::Status;
using bnb::api::guarded;

namespace {

Status check_kind(int32_t kind) {
    BNB_RETURN_IF(kind != BNB_QMAP_SIGNED && kind != BNB_QMAP_UNSIGNED, BNB_ERR_INVALID_ARGUMENT,
                  "kind = %d is not a bnb_qmap_kind", kind);
    return Status::ok_status();
}

// The built-in map of a kind that check_kind() accepted.
const bnb::QuantMap& builtin_map(int32_t kind) { return *bnb::QuantMap::builtin(static_cast<bnb_qmap_kind>(kind)); }

}  // namespace

extern "C" bnb_status bnb_qmap_copy(int32_t kind, float* dst) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_kind(kind));
        BNB_RETURN_IF(dst == nullptr, BNB_ERR_INVALID_ARGUMENT, "dst is NULL");
        const float* values = builtin_map(kind).values();
        for (int i = 0; i < bnb::kMapSize; ++i) dst[i] = values[i];
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_quantize_blockwise(int32_t kind, const bnb_tensor* src, uint8_t* codes,
                                             float* absmax) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_kind(kind));
        BNB_FORWARD(bnb::check_tensor(src, "src"));
        BNB_RETURN_IF(src->numel > 0 && codes == nullptr, BNB_ERR_INVALID_ARGUMENT, "codes is NULL");
        BNB_RETURN_IF(src->numel > 0 && absmax == nullptr, BNB_ERR_INVALID_ARGUMENT, "absmax is NULL");
        bnb::cpu::FpEnvGuard fp_env;
        bnb::cpu::quantize_blockwise(builtin_map(kind).tables(), src->data,
                                     static_cast<bnb_dtype>(src->dtype), src->numel, codes, absmax);
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_dequantize_blockwise(int32_t kind, const uint8_t* codes, const float* absmax,
                                               bnb_tensor* dst) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_kind(kind));
        BNB_FORWARD(bnb::check_tensor(dst, "dst"));
        BNB_RETURN_IF(dst->numel > 0 && codes == nullptr, BNB_ERR_INVALID_ARGUMENT, "codes is NULL");
        BNB_RETURN_IF(dst->numel > 0 && absmax == nullptr, BNB_ERR_INVALID_ARGUMENT, "absmax is NULL");
        bnb::cpu::FpEnvGuard fp_env;
        bnb::cpu::dequantize_blockwise(builtin_map(kind).tables(), codes, absmax, dst->numel,
                                       static_cast<bnb_dtype>(dst->dtype), dst->data);
        return Status::ok_status();
    });
}
