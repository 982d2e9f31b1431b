#include "cuda_check.hpp"

#include <cstring>

namespace bnb {
namespace cuda {

Status cuda_error(cudaError_t error, const char* call, const char* file, int line) {
    (void)cudaGetLastError();
    const char* slash = std::strrchr(file, '/');
    const char* where = slash != nullptr ? slash + 1 : file;
    bnb_status code = BNB_ERR_CUDA;
    if (error == cudaErrorMemoryAllocation) code = BNB_ERR_OUT_OF_MEMORY;
    if (error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver || error == cudaErrorInvalidDevice) {
        code = BNB_ERR_NO_CUDA_DEVICE;
    }
    return make_error(code, "%s failed: %s (%s) at %s:%d", call, cudaGetErrorName(error), cudaGetErrorString(error),
                      where, line);
}

DeviceGuard::~DeviceGuard() {
    if (previous_ >= 0) (void)cudaSetDevice(previous_);
}

Status DeviceGuard::enter(int device) {
    int current = -1;
    BNB_CUDA_TRY(cudaGetDevice(&current));
    if (current != device) BNB_CUDA_TRY(cudaSetDevice(device));
    previous_ = current;
    return Status::ok_status();
}

}  // namespace cuda
}  // namespace bnb
