// The CUDA backend as core sees it: its DeviceBackend (core/backend.hpp), over device_memory.hpp and
// device_steps.hpp. Compiled in every build; without CUDA those answer BNB_ERR_UNSUPPORTED (no_cuda.cpp).
#pragma once

#include "core/backend.hpp"

namespace bnb {
namespace cuda {

const DeviceBackend& device_backend();

}  // namespace cuda
}  // namespace bnb
