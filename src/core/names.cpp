#include "names.hpp"

#include <charconv>
#include <cmath>

namespace bnb {

std::string format_double(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

const char* dtype_name(int32_t dtype) {
    switch (dtype) {
        case BNB_DTYPE_F32: return "f32";
        case BNB_DTYPE_F16: return "f16";
        case BNB_DTYPE_BF16: return "bf16";
        default: return "unknown";
    }
}

const char* state_mode_name(int32_t mode) {
    switch (mode) {
        case BNB_STATE_MODE_NONE: return "none";
        case BNB_STATE_MODE_32BIT: return "32bit";
        case BNB_STATE_MODE_8BIT_BLOCKWISE: return "8bit-blockwise";
        case BNB_STATE_MODE_8BIT_TENSORWISE: return "8bit-tensorwise";
        default: return "unknown";
    }
}

int dtype_size(int32_t dtype) {
    switch (dtype) {
        case BNB_DTYPE_F32: return 4;
        case BNB_DTYPE_F16:
        case BNB_DTYPE_BF16: return 2;
        default: return 0;
    }
}

}  // namespace bnb
