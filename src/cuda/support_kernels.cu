// The kernels around the step kernel (ALGORITHMS.md §5.1, §7):
//   - count_nonfinite: skip_step_on_nonfinite's count, an integer sum (exact in any order);
//   - gate: the step's decision (AMP found-inf, non-finite gradients) and, per parameter, its step
//     counter and the candidate row of scalars for it (Note [step candidates], step_counters.hpp);
//   - gradient_partials, reduce_runs, finish: the deterministic tree R of §7.1 (level 0 per block in
//     fp32, then runs of 256 in double, level by level), never with float atomics;
//   - tensor_pass: percentile clipping's scale, the trust ratio, and the tensor-wise absmax commit, with
//     the host's functions (rules/norm_scales.hpp).
#include <cuda_runtime.h>

#include "core/rules/element.hpp"
#include "core/rules/norm_scales.hpp"
#include "cuda_launch.cuh"
#include "kernels.hpp"
#include "warp_ops.cuh"

namespace bnb {
namespace cuda {
namespace {

__global__ void gate_kernel(GateArgs g) {
    const bool found_inf = g.found_inf != nullptr && *g.found_inf != 0.0f;  // NaN counts as set
    const bool nonfinite =
        g.skip_nonfinite != 0 &&
        static_cast<unsigned long long>(g.host_nonfinite) + g.report->counted_nonfinite > 0ull;
    const bool skip = found_inf || nonfinite;
    const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (first == 0) {
        g.report->skipped = skip ? 1 : 0;
        g.report->params_stepped = skip ? 0 : g.participants;
    }
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = first; i < g.slots; i += stride) {
        const StepParam& step = g.step[i];
        ParamStatus& status = g.status[i];
        status.active = 0;
        if (step.rows == 0) continue;
        // An exact counter from the host also resets the device's copy, skipped step or not.
        const int64_t before = step.exact ? step.t_lo : status.t;
        status.t = before;
        if (skip) continue;
        const int64_t row = before - step.t_lo;
        if (row < 0 || row >= step.rows) {
            atomicOr(&g.report->errors, kDeviceErrorStepCounter);
            continue;
        }
        status.t = before + 1;
        status.k = g.candidates[step.first_row + row];
        status.active = 1;
        status.gradient_scale = 1.0;
        status.trust_ratio = 1.0;
        status.update_sq_norm = 0.0;
        for (int j = 0; j < kMaxSlots; ++j) status.absmax_bits[j] = 0u;
    }
}

template <class T>
__global__ void __launch_bounds__(kThreadsPerBlock) count_nonfinite_kernel(GroupArgs a) {
    const GradReader read_grad = GradReader::of(a);
    const int lane = warp_lane();
    unsigned long long count = 0;
    const auto select = [&](const DeviceTensor& d) { return a.step[d.param_index].rows > 0; };
    const auto visit = [&](const DeviceTensor& d, int64_t first, int64_t last) {
        for (int64_t local = first; local < last; ++local) {
            const int64_t begin = local * kBlockSize;
            const int len = static_cast<int>(min64(kBlockSize, d.numel - begin));
            T g[kElemsPerLane];
            load_lane(static_cast<const T*>(d.grad) + begin, lane, len, d.vector_ok != 0 && len == kBlockSize, g);
#pragma unroll
            for (int e = 0; e < kElemsPerLane; ++e) {
                if (lane_element(lane, e) < len && !is_usable_bits(read_grad(g[e]))) ++count;
            }
        }
    };
    for_warp_blocks(a, select, visit);
    count = warp_sum(count);
    if (lane == 0 && count != 0) atomicAdd(&a.report->counted_nonfinite, count);
}

template <class T>
__global__ void __launch_bounds__(kThreadsPerBlock) gradient_partials_kernel(GroupArgs a) {
    if (a.report->skipped) return;
    const GradReader read_grad = GradReader::of(a);
    const int lane = warp_lane();
    const auto select = [&](const DeviceTensor& d) {
        return a.status[d.param_index].active != 0 && a.step[d.param_index].percentile < 100;
    };
    const auto visit = [&](const DeviceTensor& d, int64_t first, int64_t last) {
        for (int64_t local = first; local < last; ++local) {
            const int64_t begin = local * kBlockSize;
            const int len = static_cast<int>(min64(kBlockSize, d.numel - begin));
            T g[kElemsPerLane];
            load_lane(static_cast<const T*>(d.grad) + begin, lane, len, d.vector_ok != 0 && len == kBlockSize, g);
            float x[kElemsPerLane];
#pragma unroll
            for (int e = 0; e < kElemsPerLane; ++e) {
                const float gr = read_grad(g[e]);
                x[e] = lane_element(lane, e) < len && is_usable_bits(gr) ? gr * gr : 0.0f;  // §7.3: g*g finite
            }
            const float partial = lane_tree_sum(x);
            if (lane == 0) a.partials[0][d.block_begin + local] = static_cast<double>(partial);
        }
    };
    for_warp_blocks(a, select, visit);
}

// Whether a tensor takes part in a reduction: percentile clipping's, or the trust ratio's.
__device__ __forceinline__ bool reduces(const GroupArgs& a, const DeviceTensor& d, bool clipping) {
    const StepParam& step = a.step[d.param_index];
    return a.status[d.param_index].active != 0 && (clipping ? step.percentile < 100 : step.norms != 0);
}

// Level 1: one block of 256 threads per run of 256 block partials (0.0 past the tensor's last block). A
// tensor of one block has no tree: its partial is its R.
__global__ void __launch_bounds__(kThreadsPerBlock) reduce_runs_kernel(GroupArgs a, int arrays, int clipping) {
    __shared__ double x[kBlockSize];
    if (a.report->skipped) return;
    for (int64_t run = blockIdx.x; run < a.total_runs; run += gridDim.x) {
        const DeviceTensor& d = a.tensors[tensor_of_run(a.tensors, a.tensor_count, run)];
        if (!reduces(a, d, clipping != 0)) continue;
        const int64_t blocks = num_blocks(d.numel);
        const int64_t first = (run - d.run_begin) * kBlockSize;
        for (int w = 0; w < arrays; ++w) {
            const double* in = a.partials[w] + d.block_begin;
            if (blocks == 1) {
                if (threadIdx.x == 0) a.runs[w][run] = in[0];
                continue;
            }
            const int64_t i = first + threadIdx.x;
            x[threadIdx.x] = i < blocks ? in[i] : 0.0;
            const double sum = block_tree_sum(x);
            if (threadIdx.x == 0) a.runs[w][run] = sum;
            __syncthreads();
        }
    }
}

// Levels >= 2: one block per tensor reduces its level-1 values in place, level after level, until one
// is left (at most a few levels: 2^31 elements have 128 runs at level 2).
__global__ void __launch_bounds__(kThreadsPerBlock) finish_kernel(GroupArgs a, int arrays, int clipping,
                                                                   int first_norm) {
    __shared__ double x[kBlockSize];
    if (a.report->skipped) return;
    for (int64_t t = blockIdx.x; t < a.tensor_count; t += gridDim.x) {
        const DeviceTensor& d = a.tensors[t];
        if (!reduces(a, d, clipping != 0)) continue;
        const int64_t blocks = num_blocks(d.numel);
        for (int w = 0; w < arrays; ++w) {
            double* values = a.runs[w] + d.run_begin;
            int64_t count = runs_of(blocks);
            while (count > 1) {
                const int64_t next = runs_of(count);
                for (int64_t r = 0; r < next; ++r) {
                    // Run r reads [256 r, 256 r + 256) and writes r, which no later run reads.
                    const int64_t i = r * kBlockSize + threadIdx.x;
                    x[threadIdx.x] = i < count ? values[i] : 0.0;
                    const double sum = block_tree_sum(x);
                    if (threadIdx.x == 0) values[r] = sum;
                    __syncthreads();
                }
                count = next;
            }
            if (threadIdx.x == 0) a.status[d.param_index].norm[first_norm + w] = blocks == 0 ? 0.0 : values[0];
        }
    }
}

__global__ void tensor_pass_kernel(GroupArgs a, TensorOp op) {
    if (a.report->skipped) return;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < a.tensor_count; t += stride) {
        const DeviceTensor& d = a.tensors[t];
        ParamStatus& status = a.status[d.param_index];
        const StepParam& step = a.step[d.param_index];
        if (status.active == 0) continue;
        switch (op) {
            case TensorOp::kClipScale:
                if (step.percentile < 100) {
                    const float q = static_cast<float>(status.norm[kNormGrad]);
                    const float gs = clipping_scale(d.clip_history, status.k.t, q, step.percentile);
                    status.k.gs = gs;
                    status.gradient_scale = gs;
                }
                break;
            case TensorOp::kTrustRatio:
                if (step.norms != 0) {
                    const double ratio =
                        trust_ratio_scale(step.max_unorm, status.norm[kNormParam], status.norm[kNormUpdate]);
                    status.trust_ratio = ratio;
                    status.update_sq_norm = status.norm[kNormUpdate];
                    status.k.lrs = static_cast<float>(step.lr * ratio);
                }
                break;
            case TensorOp::kCommitAbsmax:
                if (d.mode == BNB_STATE_MODE_8BIT_TENSORWISE) {
                    for (int j = 0; j < kMaxSlots; ++j) {
                        if (d.slot[j].absmax != nullptr) {
                            *d.slot[j].absmax = block_scale(bits_to_float(status.absmax_bits[j])).absmax;
                        }
                    }
                }
                break;
        }
    }
}

template <class T>
Status launch_count_typed(const GroupArgs& args, const Launch& launch) {
    const auto kernel = count_nonfinite_kernel<T>;
    kernel<<<grid_for(args.total_blocks, launch.sm_count, resident_blocks(kernel)), kThreadsPerBlock, 0,
             static_cast<cudaStream_t>(launch.stream)>>>(args);
    return launch_status("count_nonfinite_kernel");
}

template <class T>
Status launch_partials_typed(const GroupArgs& args, const Launch& launch) {
    const auto kernel = gradient_partials_kernel<T>;
    kernel<<<grid_for(args.total_blocks, launch.sm_count, resident_blocks(kernel)), kThreadsPerBlock, 0,
             static_cast<cudaStream_t>(launch.stream)>>>(args);
    return launch_status("gradient_partials_kernel");
}

// Grids over runs or tensors: one block each, at most this many (the kernels loop over the rest).
unsigned capped_grid(int64_t items) {
    constexpr int64_t kMaxGrid = 1 << 20;
    return static_cast<unsigned>(items < 1 ? 1 : (items < kMaxGrid ? items : kMaxGrid));
}

}  // namespace

Status launch_count_nonfinite(bnb_dtype dtype, const GroupArgs& args, const Launch& launch) {
    if (args.total_blocks == 0) return Status::ok_status();
    switch (dtype) {
        case BNB_DTYPE_F32: return launch_count_typed<float>(args, launch);
        case BNB_DTYPE_F16: return launch_count_typed<f16_t>(args, launch);
        case BNB_DTYPE_BF16: return launch_count_typed<bf16_t>(args, launch);
    }
    return make_error(BNB_ERR_INTERNAL, "count_nonfinite: unknown dtype %d", static_cast<int>(dtype));
}

Status launch_gradient_partials(bnb_dtype dtype, const GroupArgs& args, const Launch& launch) {
    if (args.total_blocks == 0) return Status::ok_status();
    switch (dtype) {
        case BNB_DTYPE_F32: return launch_partials_typed<float>(args, launch);
        case BNB_DTYPE_F16: return launch_partials_typed<f16_t>(args, launch);
        case BNB_DTYPE_BF16: return launch_partials_typed<bf16_t>(args, launch);
    }
    return make_error(BNB_ERR_INTERNAL, "gradient_partials: unknown dtype %d", static_cast<int>(dtype));
}

Status launch_reduce(const GroupArgs& args, int arrays, bool clipping, int first_norm, const Launch& launch) {
    const cudaStream_t stream = static_cast<cudaStream_t>(launch.stream);
    if (args.total_runs > 0) {
        reduce_runs_kernel<<<capped_grid(args.total_runs), kThreadsPerBlock, 0, stream>>>(args, arrays, clipping ? 1 : 0);
        BNB_FORWARD(launch_status("reduce_runs_kernel"));
    }
    finish_kernel<<<capped_grid(args.tensor_count), kThreadsPerBlock, 0, stream>>>(args, arrays, clipping ? 1 : 0,
                                                                                     first_norm);
    return launch_status("finish_kernel");
}

Status launch_tensor_pass(const GroupArgs& args, TensorOp op, const Launch& launch) {
    constexpr int kThreads = 128;
    const int64_t blocks = (args.tensor_count + kThreads - 1) / kThreads;
    tensor_pass_kernel<<<capped_grid(blocks), kThreads, 0, static_cast<cudaStream_t>(launch.stream)>>>(args, op);
    return launch_status("tensor_pass_kernel");
}

Status launch_gate(const GateArgs& args, const Launch& launch) {
    constexpr int kThreads = 128;
    const int64_t blocks = (args.slots + kThreads - 1) / kThreads;
    gate_kernel<<<capped_grid(blocks), kThreads, 0, static_cast<cudaStream_t>(launch.stream)>>>(args);
    return launch_status("gate_kernel");
}

}  // namespace cuda
}  // namespace bnb
