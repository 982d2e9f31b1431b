// Device building blocks of the kernels: a warp's walk over its blocks of a group, the per-lane loads
// and stores of one 256-element block (lane L holds elements lane_element(L, 0..7), in two 4-element
// vectors when the buffers allow it), warp-wide max and sum, and the §7.1 trees.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "block_ranges.hpp"
#include "core/rules/convert.hpp"
#include "core/rules/quant.hpp"
#include "device_types.hpp"
#include "lane_tree.hpp"

namespace bnb {
namespace cuda {

constexpr unsigned kFullMask = 0xffffffffu;

// Four consecutive elements, aligned so that one vector instruction moves them.
template <class T>
struct alignas(4 * sizeof(T)) Quad {
    T v[4];
};

// The lane's 8 elements of a block starting at `base`; elements at or past `len` read as T().
// `vector`: the block is full and `base` is aligned for Quad<T>.
template <class T>
__device__ __forceinline__ void load_lane(const T* base, int lane, int len, bool vector, T (&out)[kElemsPerLane]) {
    if (vector) {
        const Quad<T> low = reinterpret_cast<const Quad<T>*>(base)[lane];
        const Quad<T> high = reinterpret_cast<const Quad<T>*>(base + kBlockSize / 2)[lane];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            out[i] = low.v[i];
            out[4 + i] = high.v[i];
        }
        return;
    }
#pragma unroll
    for (int j = 0; j < kElemsPerLane; ++j) {
        const int e = lane_element(lane, j);
        out[j] = e < len ? base[e] : T();
    }
}

// Stores the lane's elements below `len`.
template <class T>
__device__ __forceinline__ void store_lane(T* base, int lane, int len, bool vector, const T (&in)[kElemsPerLane]) {
    if (vector) {
        Quad<T> low, high;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            low.v[i] = in[i];
            high.v[i] = in[4 + i];
        }
        reinterpret_cast<Quad<T>*>(base)[lane] = low;
        reinterpret_cast<Quad<T>*>(base + kBlockSize / 2)[lane] = high;
        return;
    }
#pragma unroll
    for (int j = 0; j < kElemsPerLane; ++j) {
        const int e = lane_element(lane, j);
        if (e < len) base[e] = in[j];
    }
}

// Max over the warp of values that are never NaN (absmax_accumulate's running values): exact and
// independent of order. Every lane gets the result.
__device__ __forceinline__ float warp_max(float m) {
#pragma unroll
    for (int d = kWarpSize / 2; d >= 1; d >>= 1) {
        const float other = __shfl_xor_sync(kFullMask, m, d);
        m = other > m ? other : m;
    }
    return m;
}

__device__ __forceinline__ unsigned long long warp_sum(unsigned long long v) {
#pragma unroll
    for (int d = kWarpSize / 2; d >= 1; d >>= 1) v += __shfl_xor_sync(kFullMask, v, d);
    return v;
}

// Level 0 of §7.1 for one block whose lane values are x (0 for elements past the tensor's end), by the
// schedule of lane_tree.hpp. The result is valid in lane 0.
__device__ __forceinline__ float lane_tree_sum(const float (&x)[kElemsPerLane]) {
    float y[4];
    tree_fold_halves(x, y);
#pragma unroll
    for (int step = 0; step < kTreeShuffleSteps; ++step) {
        const int d = tree_shuffle_distance(step);
#pragma unroll
        for (int i = 0; i < 4; ++i) y[i] = y[i] + __shfl_down_sync(kFullMask, y[i], d);
    }
    return tree_finish(y);
}

// Levels >= 1 of §7.1: the 256 doubles of x (one per thread of a 256-thread block, 0.0 padding) by the
// same tree: x_j <- x_j + x_{j+s} for s = 128, ..., 1. Every thread returns the sum; x is overwritten.
__device__ __forceinline__ double block_tree_sum(double* x) {
    __syncthreads();
    for (int s = kBlockSize / 2; s >= 1; s >>= 1) {
        if (static_cast<int>(threadIdx.x) < s) x[threadIdx.x] = x[threadIdx.x] + x[threadIdx.x + s];
        __syncthreads();
    }
    return x[0];
}

// The raw gradient of §5.3: the stored value, divided by the AMP loss scale when one is set.
struct GradReader {
    bool scaled;
    float scale;

    __device__ __forceinline__ static GradReader of(const GroupArgs& a) {
        return GradReader{a.grad_scale != nullptr, a.grad_scale != nullptr ? *a.grad_scale : 1.0f};
    }
    template <class T>
    __device__ __forceinline__ float operator()(T g) const {
        const float x = load_elem(g);
        return scaled ? x / scale : x;
    }
};

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

__device__ __forceinline__ int warp_lane() { return static_cast<int>(threadIdx.x) % kWarpSize; }

// Calls visit(tensor, first, last) for the local blocks [first, last) of every tensor that the calling
// warp's share of the group covers and that select(tensor) accepts. Warp-uniform.
template <class Select, class Visit>
__device__ __forceinline__ void for_warp_blocks(const GroupArgs& a, Select select, Visit visit) {
    constexpr int kWarpsPerBlock = kThreadsPerBlock / kWarpSize;
    const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
    const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
    int64_t block = 0, end = 0;
    warp_block_range(a.total_blocks, warps, warp, &block, &end);
    int64_t t = block < end ? tensor_of_block(a.tensors, a.tensor_count, block) : 0;
    while (block < end) {
        const DeviceTensor& d = a.tensors[t];
        const int64_t tensor_end = min64(end, d.block_begin + num_blocks(d.numel));
        if (block < tensor_end && select(d)) visit(d, block - d.block_begin, tensor_end - d.block_begin);
        if (tensor_end > block) block = tensor_end;
        ++t;
    }
}

// Blocks of 256 threads for `blocks` blocks of 256 elements (8 per block, one per warp), at most
// `per_sm` resident blocks per multiprocessor.
inline unsigned grid_for(int64_t blocks, int32_t sm_count, int per_sm) {
    const int64_t wanted = (blocks + kThreadsPerBlock / kWarpSize - 1) / (kThreadsPerBlock / kWarpSize);
    const int64_t cap = static_cast<int64_t>(sm_count) * (per_sm > 0 ? per_sm : 1);
    const int64_t grid = wanted < cap ? wanted : cap;
    return static_cast<unsigned>(grid > 0 ? grid : 1);
}

}  // namespace cuda
}  // namespace bnb
