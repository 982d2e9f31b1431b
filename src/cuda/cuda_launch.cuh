// Launch helpers shared by the .cu files: the occupancy that sizes grids, and a launch's error as a
// Status.
#pragma once

#include <cuda_runtime.h>

#include "core/status.hpp"
#include "cuda_check.hpp"
#include "device_types.hpp"

namespace bnb {
namespace cuda {

// Blocks of kThreadsPerBlock threads of `kernel` that fit on one multiprocessor (1 if unknown).
template <class Kernel>
int resident_blocks(Kernel kernel) {
    int blocks = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, kThreadsPerBlock, 0) != cudaSuccess) {
        (void)cudaGetLastError();
        blocks = 1;
    }
    return blocks;
}

// The error of the launch just made, if any.
inline Status launch_status(const char* kernel) {
    const cudaError_t error = cudaPeekAtLastError();
    if (error == cudaSuccess) return Status::ok_status();
    return cuda_error(error, kernel, __FILE__, __LINE__);
}

}  // namespace cuda
}  // namespace bnb
