// Human-readable names of public enum values and numbers, for messages and checkpoint metadata.
#pragma once

#include <cstdint>
#include <string>

#include "bnb8.h"

namespace bnb {

// The shortest decimal that reads back as the same double ("0.001", "1e-08", "inf", "nan").
std::string format_double(double value);

// "f32", "f16", "bf16", or "unknown" for values outside the enum.
const char* dtype_name(int32_t dtype);

// "none", "32bit", "8bit-blockwise", "8bit-tensorwise".
const char* state_mode_name(int32_t mode);

// Bytes per element of a dtype, 0 for unknown values.
int dtype_size(int32_t dtype);

}  // namespace bnb
