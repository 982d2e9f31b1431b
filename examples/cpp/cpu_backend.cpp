// cpu_backend.cpp -- train_mlp's dense math in host memory: matrix products through OpenBLAS's
// cblas_sgemm, the element-wise steps as plain loops (the build forbids fast-math, so each loop keeps
// its written order and the results repeat from run to run).
#include <cblas.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "backend.hpp"
#include "bnb8.h"
#include "errors.hpp"

namespace trainer {
namespace {

class CpuBackend final : public Backend {
public:
    // At the default sizes a GEMM is ~10 MFLOP: OpenBLAS's threads cost more to wake than they save, and
    // they compete with bnb8's own step threads (measured on the 2-core machine under load: 19 ms per
    // iteration with 2 BLAS threads, 1.9 ms with one). OPENBLAS_NUM_THREADS, when set, still decides.
    CpuBackend() {
        if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr) openblas_set_num_threads(1);
    }

    std::string description() const override {
        // openblas_get_config() reads e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
        return std::string("cpu: ") + openblas_get_config() + ", " + std::to_string(openblas_get_num_threads()) +
               " BLAS threads";
    }
    int32_t bnb_device() const override { return BNB_DEVICE_CPU; }
    void* stream() const override { return nullptr; }

    float* allocate(size_t count) override {
        void* data = std::calloc(count > 0 ? count : 1, sizeof(float));
        if (data == nullptr) throw Error("out of host memory allocating " + std::to_string(count) + " floats");
        return static_cast<float*>(data);
    }
    void release(float* data) noexcept override { std::free(data); }
    void upload(float* dst, const float* host_src, size_t count) override { copy(dst, host_src, count); }
    void download(float* host_dst, const float* src, size_t count) override { copy(host_dst, src, count); }
    void copy(float* dst, const float* src, size_t count) override {
        for (size_t i = 0; i < count; ++i) dst[i] = src[i];
    }
    void synchronize() override {}

    void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const float* a, const float* b, float beta,
              float* c) override {
        // Row-major leading dimensions: the length of a stored row.
        const int lda = transpose_a ? m : k;
        const int ldb = transpose_b ? k : n;
        cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
                    m, n, k, 1.0f, a, lda, b, ldb, beta, c, n);
    }

    void add_bias(float* x, const float* bias, int rows, int cols, bool apply_tanh) override {
        for (int r = 0; r < rows; ++r) {
            float* row = x + static_cast<size_t>(r) * static_cast<size_t>(cols);
            for (int c = 0; c < cols; ++c) {
                const float z = row[c] + bias[c];
                row[c] = apply_tanh ? std::tanh(z) : z;
            }
        }
    }

    void tanh_backward(float* delta, const float* activation, size_t count) override {
        for (size_t i = 0; i < count; ++i) delta[i] *= 1.0f - activation[i] * activation[i];
    }

    void column_sums(const float* x, int rows, int cols, float* out) override {
        for (int c = 0; c < cols; ++c) out[c] = 0.0f;
        for (int r = 0; r < rows; ++r) {
            const float* row = x + static_cast<size_t>(r) * static_cast<size_t>(cols);
            for (int c = 0; c < cols; ++c) out[c] += row[c];
        }
    }

    void mse_gradient(const float* y, const float* target, size_t count, float* grad) override {
        const float scale = 2.0f / static_cast<float>(count);
        for (size_t i = 0; i < count; ++i) grad[i] = scale * (y[i] - target[i]);
    }

    double squared_error_sum(const float* y, const float* target, size_t count) override {
        double sum = 0.0;
        for (size_t i = 0; i < count; ++i) {
            const double diff = static_cast<double>(y[i] - target[i]);
            sum += diff * diff;
        }
        return sum;
    }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace trainer
