// cuda_backend.cu -- train_mlp's dense math on one GPU: matrix products through cuBLAS (cublasSgemm,
// fp32, or TF32 tensor cores when asked) and small kernels for the element-wise steps and the
// reductions, all enqueued in order on one stream, which bnb8 steps the parameters on as well.
//
// The reductions (column sums, the squared error) give every output element to one thread, or use one
// block with a fixed tree, so their results repeat from run to run; cuBLAS gives the same bits on every
// run with one stream on one GPU model. Errors of CUDA and cuBLAS calls become trainer::Error with the
// call, its message and the place.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <memory>
#include <string>

#include "backend.hpp"
#include "errors.hpp"

namespace trainer {
namespace {

void cuda_check(cudaError_t status, const char* call, const char* file, int line) {
    if (status == cudaSuccess) return;
    (void)cudaGetLastError();  // clear the error unless it is sticky
    throw Error(std::string(call) + " failed: " + cudaGetErrorString(status) + " (" + file + ":" +
                std::to_string(line) + ")");
}

void cublas_check(cublasStatus_t status, const char* call, const char* file, int line) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    throw Error(std::string(call) + " failed: " + cublasGetStatusString(status) + " (" + file + ":" +
                std::to_string(line) + ")");
}

#define TRAINER_CUDA(call) cuda_check((call), #call, __FILE__, __LINE__)
#define TRAINER_CUBLAS(call) cublas_check((call), #call, __FILE__, __LINE__)

// Element-wise kernels are grid-stride loops over 64-bit indices with at most kMaxBlocks blocks.
constexpr int kThreads = 256;
constexpr size_t kMaxBlocks = 4096;

unsigned int blocks_for(size_t count) {
    return static_cast<unsigned int>(std::min(kMaxBlocks, (count + kThreads - 1) / kThreads));
}

__device__ size_t first_index() { return blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; }
__device__ size_t grid_stride() { return static_cast<size_t>(gridDim.x) * blockDim.x; }

__global__ void add_bias_kernel(float* x, const float* bias, size_t count, int cols, bool apply_tanh) {
    for (size_t i = first_index(); i < count; i += grid_stride()) {
        const float z = x[i] + bias[i % static_cast<size_t>(cols)];
        x[i] = apply_tanh ? tanhf(z) : z;
    }
}

__global__ void tanh_backward_kernel(float* delta, const float* activation, size_t count) {
    for (size_t i = first_index(); i < count; i += grid_stride()) {
        delta[i] *= 1.0f - activation[i] * activation[i];
    }
}

// One thread per column, adding the rows in order (neighbouring threads read neighbouring columns).
__global__ void column_sums_kernel(const float* x, int rows, int cols, float* out) {
    const size_t c = first_index();
    if (c >= static_cast<size_t>(cols)) return;
    float sum = 0.0f;
    for (int r = 0; r < rows; ++r) sum += x[static_cast<size_t>(r) * static_cast<size_t>(cols) + c];
    out[c] = sum;
}

__global__ void mse_gradient_kernel(const float* y, const float* target, size_t count, float scale, float* grad) {
    for (size_t i = first_index(); i < count; i += grid_stride()) grad[i] = scale * (y[i] - target[i]);
}

// One block: each thread adds a strided share in double, then a fixed tree adds the shares.
__global__ void squared_error_sum_kernel(const float* y, const float* target, size_t count, double* out) {
    __shared__ double partial[kThreads];
    double sum = 0.0;
    for (size_t i = threadIdx.x; i < count; i += kThreads) {
        const double diff = static_cast<double>(y[i] - target[i]);
        sum += diff * diff;
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int half = kThreads / 2; half > 0; half /= 2) {
        if (static_cast<int>(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) *out = partial[0];
}

struct StreamDeleter {
    void operator()(cudaStream_t stream) const noexcept { (void)cudaStreamDestroy(stream); }
};
struct CublasDeleter {
    void operator()(cublasHandle_t handle) const noexcept { (void)cublasDestroy(handle); }
};
struct DeviceFree {
    void operator()(void* data) const noexcept { (void)cudaFree(data); }
};

class CudaBackend final : public Backend {
public:
    CudaBackend(int device, bool tf32_gemms) : device_(device), tf32_gemms_(tf32_gemms) {
        int count = 0;
        const cudaError_t status = cudaGetDeviceCount(&count);
        if (status != cudaSuccess || count == 0) {
            (void)cudaGetLastError();
            throw DeviceUnavailable(std::string("no usable CUDA device: ") +
                                    (status != cudaSuccess ? cudaGetErrorString(status) : "the driver reports none"));
        }
        if (device < 0 || device >= count) {
            throw DeviceUnavailable("CUDA device " + std::to_string(device) + " does not exist (" +
                                    std::to_string(count) + " visible)");
        }
        TRAINER_CUDA(cudaSetDevice(device));
        TRAINER_CUDA(cudaGetDeviceProperties(&properties_, device));
        cudaStream_t stream = nullptr;
        TRAINER_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        stream_.reset(stream);
        cublasHandle_t handle = nullptr;
        TRAINER_CUBLAS(cublasCreate(&handle));
        cublas_.reset(handle);
        TRAINER_CUBLAS(cublasSetStream(handle, stream));
        TRAINER_CUBLAS(cublasSetMathMode(handle, tf32_gemms ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
        void* scratch = nullptr;
        TRAINER_CUDA(cudaMalloc(&scratch, sizeof(double)));
        scratch_.reset(scratch);
    }

    std::string description() const override {
        int version = 0;
        (void)cublasGetVersion(cublas_.get(), &version);
        return "cuda:" + std::to_string(device_) + " " + properties_.name + " (" +
               std::to_string(properties_.multiProcessorCount) + " SMs, compute " + std::to_string(properties_.major) +
               "." + std::to_string(properties_.minor) + "), cuBLAS " + std::to_string(version / 10000) + "." +
               std::to_string(version / 100 % 100) + "." + std::to_string(version % 100) +
               (tf32_gemms_ ? ", TF32 tensor-core GEMMs" : ", fp32 GEMMs");
    }
    int32_t bnb_device() const override { return device_; }
    void* stream() const override { return stream_.get(); }

    float* allocate(size_t count) override {
        void* data = nullptr;
        const size_t bytes = (count > 0 ? count : 1) * sizeof(float);
        TRAINER_CUDA(cudaMalloc(&data, bytes));
        std::unique_ptr<void, DeviceFree> owned(data);
        TRAINER_CUDA(cudaMemsetAsync(data, 0, bytes, stream_.get()));
        return static_cast<float*>(owned.release());
    }
    void release(float* data) noexcept override { DeviceFree()(data); }
    void upload(float* dst, const float* host_src, size_t count) override {
        // From pageable memory the call returns once the source has been staged, so the host buffer
        // may change right after it.
        TRAINER_CUDA(cudaMemcpyAsync(dst, host_src, count * sizeof(float), cudaMemcpyHostToDevice, stream_.get()));
    }
    void download(float* host_dst, const float* src, size_t count) override {
        TRAINER_CUDA(cudaMemcpyAsync(host_dst, src, count * sizeof(float), cudaMemcpyDeviceToHost, stream_.get()));
        synchronize();
    }
    void copy(float* dst, const float* src, size_t count) override {
        TRAINER_CUDA(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToDevice, stream_.get()));
    }
    void synchronize() override { TRAINER_CUDA(cudaStreamSynchronize(stream_.get())); }

    void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const float* a, const float* b, float beta,
              float* c) override {
        // cuBLAS is column-major, and a row-major matrix is its transpose in column-major order: the
        // row-major C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T, with the same leading
        // dimensions (the length of a stored row).
        const int lda = transpose_a ? m : k;
        const int ldb = transpose_b ? k : n;
        const float one = 1.0f;
        TRAINER_CUBLAS(cublasSgemm(cublas_.get(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                   transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &one, b, ldb, a, lda, &beta, c,
                                   n));
    }

    void add_bias(float* x, const float* bias, int rows, int cols, bool apply_tanh) override {
        const size_t count = static_cast<size_t>(rows) * static_cast<size_t>(cols);
        if (count == 0) return;
        add_bias_kernel<<<blocks_for(count), kThreads, 0, stream_.get()>>>(x, bias, count, cols, apply_tanh);
        TRAINER_CUDA(cudaGetLastError());
    }

    void tanh_backward(float* delta, const float* activation, size_t count) override {
        if (count == 0) return;
        tanh_backward_kernel<<<blocks_for(count), kThreads, 0, stream_.get()>>>(delta, activation, count);
        TRAINER_CUDA(cudaGetLastError());
    }

    void column_sums(const float* x, int rows, int cols, float* out) override {
        if (cols == 0) return;
        const unsigned int blocks = static_cast<unsigned int>((cols + kThreads - 1) / kThreads);
        column_sums_kernel<<<blocks, kThreads, 0, stream_.get()>>>(x, rows, cols, out);
        TRAINER_CUDA(cudaGetLastError());
    }

    void mse_gradient(const float* y, const float* target, size_t count, float* grad) override {
        if (count == 0) return;
        const float scale = 2.0f / static_cast<float>(count);
        mse_gradient_kernel<<<blocks_for(count), kThreads, 0, stream_.get()>>>(y, target, count, scale, grad);
        TRAINER_CUDA(cudaGetLastError());
    }

    double squared_error_sum(const float* y, const float* target, size_t count) override {
        double* sum = static_cast<double*>(scratch_.get());
        squared_error_sum_kernel<<<1, kThreads, 0, stream_.get()>>>(y, target, count, sum);
        TRAINER_CUDA(cudaGetLastError());
        double host = 0.0;
        TRAINER_CUDA(cudaMemcpyAsync(&host, sum, sizeof host, cudaMemcpyDeviceToHost, stream_.get()));
        synchronize();
        return host;
    }

private:
    int device_;
    bool tf32_gemms_;
    cudaDeviceProp properties_{};
    // Declared in creation order, so they are destroyed in reverse: the buffer, cuBLAS, then the stream.
    std::unique_ptr<CUstream_st, StreamDeleter> stream_;
    std::unique_ptr<cublasContext, CublasDeleter> cublas_;
    std::unique_ptr<void, DeviceFree> scratch_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device, bool tf32_gemms) {
    return std::make_unique<CudaBackend>(device, tf32_gemms);
}

}  // namespace trainer
