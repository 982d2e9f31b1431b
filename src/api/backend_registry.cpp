// The one place that picks the backends of this build (core/backend.hpp): host tensors go to the CPU
// backend, device ordinals to the CUDA backend, which in a build without CUDA answers every call with
// BNB_ERR_UNSUPPORTED (cuda/no_cuda.cpp; src/CMakeLists.txt chooses the sources). Core reaches the
// backends only through these two functions.
#include "core/backend.hpp"
#include "cpu/host_backend.hpp"
#include "cuda/device_backend.hpp"

namespace bnb {

const HostBackend& host_backend() { return cpu::host_backend(); }
const DeviceBackend& device_backend() { return cuda::device_backend(); }

}  // namespace bnb
