// backend.hpp -- where train_mlp's numbers live and how its dense math runs: host memory with OpenBLAS
// (cpu_backend.cpp) or GPU memory with cuBLAS and a few small kernels (cuda_backend.cu).
//
// Every pointer handed to a Backend is one of its own buffers (see Buffer), except the host side of
// upload() and download(). Matrices are row-major. On the GPU, work is enqueued on one stream, in
// order; synchronize() waits for it, and the calls that return host values wait by themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace trainer {

class Backend {
public:
    virtual ~Backend() = default;

    // One line for the report, e.g. "cpu: OpenBLAS 0.3.21 ... (2 threads)".
    virtual std::string description() const = 0;
    // The bnb_tensor.device of this backend's buffers: BNB_DEVICE_CPU or a CUDA ordinal.
    virtual int32_t bnb_device() const = 0;
    // The cudaStream_t the work runs on, for bnb_optimizer_config.cuda_stream (NULL on the CPU).
    virtual void* stream() const = 0;

    // `count` floats, all zero; never NULL (a failure throws). release(NULL) does nothing.
    virtual float* allocate(size_t count) = 0;
    virtual void release(float* data) noexcept = 0;
    virtual void upload(float* dst, const float* host_src, size_t count) = 0;
    virtual void download(float* host_dst, const float* src, size_t count) = 0;  // waits
    virtual void copy(float* dst, const float* src, size_t count) = 0;
    // Wait until every piece of work enqueued so far has finished (a no-op on the CPU).
    virtual void synchronize() = 0;

    // C (m x n) = op(A) (m x k) * op(B) (k x n) + beta * C, where op transposes when asked: A is stored
    // as m x k, or as k x m with transpose_a; B as k x n, or as n x k with transpose_b.
    virtual void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const float* a, const float* b,
                      float beta, float* c) = 0;
    // x[r][c] += bias[c], then x = tanh(x) when `apply_tanh` (x is rows x cols).
    virtual void add_bias(float* x, const float* bias, int rows, int cols, bool apply_tanh) = 0;
    // delta[i] *= 1 - activation[i]^2: back through tanh, whose output is the stored activation.
    virtual void tanh_backward(float* delta, const float* activation, size_t count) = 0;
    // out[c] = sum over rows of x[r][c], in row order (x is rows x cols).
    virtual void column_sums(const float* x, int rows, int cols, float* out) = 0;
    // grad[i] = 2 (y[i] - target[i]) / count: the gradient of the mean squared error.
    virtual void mse_gradient(const float* y, const float* target, size_t count, float* grad) = 0;
    // The sum of (y[i] - target[i])^2, accumulated in double in a fixed order; waits for the result.
    virtual double squared_error_sum(const float* y, const float* target, size_t count) = 0;
};

std::unique_ptr<Backend> make_cpu_backend();
// CUDA device `device`, GEMMs in fp32 or (tf32_gemms) on TF32 tensor cores. Throws DeviceUnavailable
// when the device cannot be used or this build has no CUDA backend (no_cuda_backend.cpp).
std::unique_ptr<Backend> make_cuda_backend(int device, bool tf32_gemms);

// `count` floats owned on a backend, released when the Buffer goes; move-only. The backend must
// outlive its buffers.
class Buffer {
public:
    Buffer() = default;
    Buffer(Backend& backend, size_t count) : backend_(&backend), data_(backend.allocate(count)), size_(count) {}
    ~Buffer() {
        if (backend_ != nullptr) backend_->release(data_);
    }
    Buffer(Buffer&& other) noexcept { swap(other); }
    Buffer& operator=(Buffer&& other) noexcept {
        Buffer moved(std::move(other));
        swap(moved);
        return *this;
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    float* data() { return data_; }
    const float* data() const { return data_; }
    size_t size() const { return size_; }

private:
    void swap(Buffer& other) noexcept {
        std::swap(backend_, other.backend_);
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }

    Backend* backend_ = nullptr;
    float* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace trainer
