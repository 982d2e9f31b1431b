// The step kernel: one launch updates every tensor of a (rule, dtype) group, in all three state modes
// (32-bit, 8-bit block-wise, 8-bit tensor-wise: a per-tensor runtime switch), ALGORITHMS.md §5. Each
// warp walks a contiguous share of the group's 256-element blocks; per block it loads the parameter,
// gradient and states (codes dequantized with the maps staged in shared memory), runs the shared
// element prologue and rule of src/core/rules, and then either
//   - Phase::kPrePass: reduces the tensor-wise absmax (an integer max of the bits, exact in any order)
//     and the trust-ratio partials of p*p and u*u (the fixed tree of §7.1), storing nothing else; or
//   - Phase::kUpdate: requantizes against the block's new absmax (block-wise) or the tensor's (from the
//     pre-pass) and stores states, absmax and the applied parameter elements.
// The CPU driver (src/cpu/drivers.hpp) does the same per block; the arithmetic is the same functions.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/rules/convert.hpp"
#include "core/rules/element.hpp"
#include "core/rules/quant.hpp"
#include "cuda_launch.cuh"
#include "device_types.hpp"
#include "kernels.hpp"
#include "warp_ops.cuh"

namespace bnb {
namespace cuda {

__device__ __forceinline__ QuantTables tables_of(const DeviceMap& m) {
    return QuantTables{m.values, m.mid, m.has_lut ? m.lut : nullptr, m.tiny_code, m.zero_code, m.is_signed != 0};
}

// Per tensor, what every block of it shares.
template <int kSlots>
struct TensorContext {
    static constexpr int kN = kSlots > 0 ? kSlots : 1;
    StepScalars k;
    QuantTables q[kN];
    float old_absmax[kN];   // tensor-wise: the absmax the codes were written with
    BlockScale scale[kN];   // tensor-wise update: the tensor's new scale
    bool quantized;
    bool tensorwise;
    bool skip_zeros;
    bool norms;             // trust-ratio partials (pre-pass)
};

// One block of a tensor: `local` is its index within the tensor. Counts the update's kept non-finite
// elements (unusable gradients and non-finite rule results, docs/extreme-values.md) into *kept_nonfinite.
template <class Rule, class T>
__device__ __forceinline__ void step_block(const GroupArgs& a, const DeviceTensor& d, ParamStatus& status,
                                           const TensorContext<Rule::kSlots>& c, const GradReader& read_grad,
                                           int64_t local, Phase phase, unsigned long long* kept_nonfinite) {
    constexpr int kSlots = Rule::kSlots;
    constexpr int kN = kSlots > 0 ? kSlots : 1;
    constexpr int kE = kElemsPerLane;
    const int lane = warp_lane();
    const int64_t begin = local * kBlockSize;
    const int len = static_cast<int>(min64(kBlockSize, d.numel - begin));
    const bool vector = d.vector_ok != 0 && len == kBlockSize;

    T* param = static_cast<T*>(d.param) + begin;
    T p_raw[kE], g_raw[kE];
    load_lane(static_cast<const T*>(param), lane, len, vector, p_raw);
    load_lane(static_cast<const T*>(d.grad) + begin, lane, len, vector, g_raw);

    float s[kN][kE] = {};
#pragma unroll
    for (int j = 0; j < kSlots; ++j) {
        if (c.quantized) {
            uint8_t codes[kE];
            load_lane(static_cast<const uint8_t*>(d.slot[j].codes) + begin, lane, len, vector, codes);
            const float absmax = c.tensorwise ? c.old_absmax[j] : d.slot[j].absmax[local];
#pragma unroll
            for (int e = 0; e < kE; ++e) s[j][e] = dequantize(c.q[j], codes[e], absmax);
        } else {
            load_lane(static_cast<const float*>(d.slot[j].values) + begin, lane, len, vector, s[j]);
        }
    }

    // The prologue and rule per element (ALGORITHMS.md §5.3, §6). p keeps the value at step start for
    // trust-ratio rules, whose step needs lrs from the norms.
    float p[kE], u[kE];
    bool applied[kE], valid[kE];
#pragma unroll
    for (int e = 0; e < kE; ++e) {
        valid[e] = lane_element(lane, e) < len;
        float pf = load_elem(p_raw[e]);
        float st[kN];
#pragma unroll
        for (int j = 0; j < kN; ++j) st[j] = s[j][e];
        ElementResult result;
        if constexpr (Rule::kTrustRatio) {
            result = direction_element<Rule>(pf, read_grad(g_raw[e]), st, u[e], c.k, c.skip_zeros);
        } else {
            result = step_element<Rule>(pf, read_grad(g_raw[e]), st, c.k, c.skip_zeros);
            u[e] = 0.0f;
        }
#pragma unroll
        for (int j = 0; j < kSlots; ++j) s[j][e] = st[j];
        p[e] = pf;
        applied[e] = valid[e] && result == ElementResult::kApplied;
        if (phase == Phase::kUpdate && valid[e] && result == ElementResult::kKeptNonFinite) ++*kept_nonfinite;
    }

    if (phase == Phase::kPrePass) {
        if (c.tensorwise) {
#pragma unroll
            for (int j = 0; j < kSlots; ++j) {
                float m = 0.0f;
#pragma unroll
                for (int e = 0; e < kE; ++e) m = valid[e] ? absmax_accumulate(m, s[j][e]) : m;
                m = warp_max(m);
                const uint32_t bits = float_to_bits(m);
                if (lane == 0 && bits != 0u) atomicMax(&status.absmax_bits[j], bits);
            }
        }
        if (Rule::kTrustRatio && c.norms) {
            float pp[kE], uu[kE];
#pragma unroll
            for (int e = 0; e < kE; ++e) {
                pp[e] = valid[e] ? p[e] * p[e] : 0.0f;
                uu[e] = valid[e] ? u[e] * u[e] : 0.0f;  // kept elements have u = 0
            }
            const float p_partial = lane_tree_sum(pp);
            const float u_partial = lane_tree_sum(uu);
            if (lane == 0) {
                a.partials[0][d.block_begin + local] = static_cast<double>(p_partial);
                a.partials[1][d.block_begin + local] = static_cast<double>(u_partial);
            }
        }
        return;
    }

    // States: fp32 as they are, 8-bit requantized (§4).
#pragma unroll
    for (int j = 0; j < kSlots; ++j) {
        if (!c.quantized) {
            store_lane(d.slot[j].values + begin, lane, len, vector, s[j]);
            continue;
        }
        BlockScale scale;
        if (c.tensorwise) {
            scale = c.scale[j];
        } else {
            float m = 0.0f;
#pragma unroll
            for (int e = 0; e < kE; ++e) m = valid[e] ? absmax_accumulate(m, s[j][e]) : m;
            scale = block_scale(warp_max(m));
            if (lane == 0) d.slot[j].absmax[local] = scale.absmax;
        }
        uint8_t codes[kE];
#pragma unroll
        for (int e = 0; e < kE; ++e) codes[e] = quantize_value(c.q[j], s[j][e], scale);
        store_lane(d.slot[j].codes + begin, lane, len, vector, codes);
    }

    // Parameters: applied elements get the new value; every other element is written back with its own
    // bits, which leaves it exactly as if it had not been written.
    T p_out[kE];
#pragma unroll
    for (int e = 0; e < kE; ++e) {
        if (!applied[e]) {
            p_out[e] = p_raw[e];
        } else if constexpr (Rule::kTrustRatio) {
            // A zero trust ratio never writes the parameter (§7.2); a step that is not finite keeps it and
            // counts (rules/element.hpp, trust_step_lanes).
            float p_new = p[e];
            const bool written = c.k.lrs != 0.0f && trust_step_lanes<Rule>(p[e], u[e], true, c.k, p_new);
            p_out[e] = written ? store_elem<T>(p_new) : p_raw[e];
            if (c.k.lrs != 0.0f && !written) ++*kept_nonfinite;
        } else {
            p_out[e] = store_elem<T>(p[e]);
        }
    }
    store_lane(param, lane, len, vector, p_out);
}

template <class Rule, class T>
__global__ void __launch_bounds__(kThreadsPerBlock) step_kernel(GroupArgs a, Phase phase) {
    constexpr int kSlots = Rule::kSlots;
    // The built-in maps, staged once per block: dequantization and code selection read them per element.
    __shared__ DeviceMap staged[2];
    if (a.stage_maps) {
        const uint4* src = reinterpret_cast<const uint4*>(a.maps);
        uint4* dst = reinterpret_cast<uint4*>(staged);
        constexpr int kWords = static_cast<int>(2 * sizeof(DeviceMap) / sizeof(uint4));
        for (int i = threadIdx.x; i < kWords; i += blockDim.x) dst[i] = src[i];
    }
    __syncthreads();
    if (a.report->skipped) return;
    const GradReader read_grad = GradReader::of(a);
    unsigned long long kept_nonfinite = 0;

    const auto select = [&](const DeviceTensor& d) {
        const ParamStatus& status = a.status[d.param_index];
        const bool tensorwise = kSlots > 0 && d.mode == BNB_STATE_MODE_8BIT_TENSORWISE;
        const bool norms = Rule::kTrustRatio && a.step[d.param_index].norms != 0;
        return status.active != 0 && (phase == Phase::kUpdate || tensorwise || norms);
    };
    const auto visit = [&](const DeviceTensor& d, int64_t first, int64_t last) {
        ParamStatus& status = a.status[d.param_index];
        const StepParam& step = a.step[d.param_index];
        TensorContext<kSlots> c;
        c.k = status.k;
        c.quantized = kSlots > 0 && d.mode != BNB_STATE_MODE_32BIT;
        c.tensorwise = kSlots > 0 && d.mode == BNB_STATE_MODE_8BIT_TENSORWISE;
        c.skip_zeros = step.skip_zeros != 0;
        c.norms = step.norms != 0;
#pragma unroll
        for (int j = 0; j < kSlots; ++j) {
            if (!c.quantized) continue;
            const int map = d.slot[j].map;
            c.q[j] = tables_of(map < 2 && a.stage_maps ? staged[map] : a.maps[map]);
            if (c.tensorwise) {
                c.old_absmax[j] = d.slot[j].absmax[0];
                c.scale[j] = block_scale(bits_to_float(status.absmax_bits[j]));
            }
        }
        for (int64_t local = first; local < last; ++local) {
            step_block<Rule, T>(a, d, status, c, read_grad, local, phase, &kept_nonfinite);
        }
    };
    for_warp_blocks(a, select, visit);

    if (phase == Phase::kUpdate) {
        kept_nonfinite = warp_sum(kept_nonfinite);
        if (warp_lane() == 0 && kept_nonfinite != 0) atomicAdd(&a.report->kept_nonfinite, kept_nonfinite);
    }
}

template <class Rule, class T>
Status launch_step_typed(const GroupArgs& args, Phase phase, const Launch& launch) {
    if (args.total_blocks == 0) return Status::ok_status();
    const auto kernel = step_kernel<Rule, T>;
    const unsigned grid = grid_for(args.total_blocks, launch.sm_count, resident_blocks(kernel));
    kernel<<<grid, kThreadsPerBlock, 0, static_cast<cudaStream_t>(launch.stream)>>>(args, phase);
    return launch_status("step kernel");
}

template <class Rule>
Status launch_step_rule(bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch) {
    switch (dtype) {
        case BNB_DTYPE_F32: return launch_step_typed<Rule, float>(args, phase, launch);
        case BNB_DTYPE_F16: return launch_step_typed<Rule, f16_t>(args, phase, launch);
        case BNB_DTYPE_BF16: return launch_step_typed<Rule, bf16_t>(args, phase, launch);
    }
    return make_error(BNB_ERR_INTERNAL, "step kernel: unknown dtype %d", static_cast<int>(dtype));
}

}  // namespace cuda
}  // namespace bnb
