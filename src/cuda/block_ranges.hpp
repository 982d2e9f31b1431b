// How the kernels split a group's blocks and find the tensor of a block or run. BNB_HD: the kernels and
// the host-side tests run this same code.
#pragma once

#include <cstdint>

#include "core/rules/bnb_hd.hpp"
#include "core/rules/quant.hpp"
#include "device_types.hpp"

namespace bnb {
namespace cuda {

// Level-1 runs of a tensor of `blocks` blocks: ceil(blocks / 256) (ALGORITHMS.md §7.1).
BNB_HD int64_t runs_of(int64_t blocks) { return (blocks + kBlockSize - 1) / kBlockSize; }

// Warp `warp` of `warps` updates the consecutive blocks [*first, *end) of a group of `total_blocks`:
// whole chunks keep each warp on one tensor for long stretches and its accesses sequential.
BNB_HD void warp_block_range(int64_t total_blocks, int64_t warps, int64_t warp, int64_t* first, int64_t* end) {
    const int64_t per_warp = (total_blocks + warps - 1) / warps;
    const int64_t begin = warp * per_warp;
    *first = begin < total_blocks ? begin : total_blocks;
    *end = begin + per_warp < total_blocks ? begin + per_warp : total_blocks;
}

// The last table row whose `Offset` (block_begin or run_begin) is <= `position`: the tensor holding
// that block or run (rows without blocks share their successor's offset and are passed over).
template <int64_t DeviceTensor::*Offset>
BNB_HD int64_t last_row_at(const DeviceTensor* tensors, int64_t count, int64_t position) {
    int64_t lo = 0, hi = count;  // tensors[lo].*Offset <= position; the answer is in [lo, hi)
    while (hi - lo > 1) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (tensors[mid].*Offset <= position) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

BNB_HD int64_t tensor_of_block(const DeviceTensor* tensors, int64_t count, int64_t block) {
    return last_row_at<&DeviceTensor::block_begin>(tensors, count, block);
}

BNB_HD int64_t tensor_of_run(const DeviceTensor* tensors, int64_t count, int64_t run) {
    return last_row_at<&DeviceTensor::run_begin>(tensors, count, run);
}

}  // namespace cuda
}  // namespace bnb
