// CUDA runtime errors as bnb::Status (STYLE: BNB_CUDA_TRY), and the device switch every call into the
// runtime makes: bnb8 sets the optimizer's device for its calls and gives the caller's back.
#pragma once

#include <cuda_runtime_api.h>

#include "core/status.hpp"

namespace bnb {
namespace cuda {

// The Status of a failed CUDA call: BNB_ERR_OUT_OF_MEMORY for allocation failures, BNB_ERR_NO_CUDA_DEVICE
// when there is no usable device or driver, else BNB_ERR_CUDA; the message names the call, the CUDA
// error and the place. Clears the runtime's last (non-sticky) error.
Status cuda_error(cudaError_t error, const char* call, const char* file, int line);

// Makes `device` current until destruction, then restores the caller's current device.
class DeviceGuard {
public:
    DeviceGuard() = default;
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;
    ~DeviceGuard();
    Status enter(int device);

private:
    int previous_ = -1;
};

}  // namespace cuda
}  // namespace bnb

#define BNB_CUDA_TRY(call)                                                                        \
    do {                                                                                          \
        const cudaError_t bnb_cuda_error_ = (call);                                               \
        if (bnb_cuda_error_ != cudaSuccess) {                                                     \
            return ::bnb::cuda::cuda_error(bnb_cuda_error_, #call, __FILE__, __LINE__);           \
        }                                                                                         \
    } while (0)
