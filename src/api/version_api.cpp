// Runtime version, feature bits and the function forms of the header's constants.
#include "bnb8.h"
#include "core/backend.hpp"
#include "core/rules/quant.hpp"

static_assert(BNB_BLOCK_SIZE == bnb::kBlockSize, "header and kernels disagree on the block size");
static_assert(BNB_QMAP_SIZE == bnb::kMapSize, "header and kernels disagree on the map size");

extern "C" int32_t bnb_version_number(void) { return BNB_VERSION_NUMBER; }

extern "C" const char* bnb_version_string(void) { return BNB_VERSION_STRING; }

extern "C" uint64_t bnb_features(void) {
    return BNB_FEATURE_CPU | (bnb::device_backend().compiled_in() ? BNB_FEATURE_CUDA : UINT64_C(0));
}

extern "C" int32_t bnb_block_size(void) { return bnb::kBlockSize; }

extern "C" int32_t bnb_qmap_size(void) { return bnb::kMapSize; }
