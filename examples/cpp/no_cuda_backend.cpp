// no_cuda_backend.cpp -- make_cuda_backend() of a train_mlp built without CUDA (no nvcc at configure
// time): asking for the GPU is answered as for a machine without one.
#include "backend.hpp"
#include "errors.hpp"

namespace trainer {

std::unique_ptr<Backend> make_cuda_backend(int, bool) {
    throw DeviceUnavailable("this train_mlp was built without CUDA (configure with BNB_WITH_CUDA and nvcc)");
}

}  // namespace trainer
