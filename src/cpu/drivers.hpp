// The CPU loop over the shared rules, one 256-element block at a time: load the parameter, gradient and
// states (fp32, or dequantized codes), run the prologue and rule, then store: fp32 states as they are,
// 8-bit states requantized against the block's new absmax (block-wise) or the tensor's (tensor-wise),
// and the parameter elements that were applied. A pre-pass over the same values, storing nothing, runs
// first when tensor-wise states need their tensor absmax or a trust-ratio rule needs its norms
// (ALGORITHMS.md §5.4). Norms use the deterministic tree of §7.1.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/clipping.hpp"
#include "core/tree_accumulator.hpp"
#include "param_view.hpp"
#include "rules/convert.hpp"
#include "rules/element.hpp"
#include "rules/quant.hpp"
#include "rules/reduce.hpp"

namespace bnb {
namespace cpu {

// New fp32 values of up to one block of elements, before the states are stored.
template <int kSlots>
struct BlockValues {
    float param[kBlockSize];  // the new parameter, or, for trust-ratio rules, the value at step start
    float u[kBlockSize];      // trust-ratio rules: the update direction (0 for kept elements)
    float state[kSlots > 0 ? kSlots : 1][kBlockSize];
    bool applied[kBlockSize];
    int64_t nonfinite;
};

inline int block_length(int64_t numel, int64_t block) {
    return static_cast<int>(std::min<int64_t>(kBlockSize, numel - block * kBlockSize));
}

inline bool is_8bit(bnb_state_mode mode) {
    return mode == BNB_STATE_MODE_8BIT_BLOCKWISE || mode == BNB_STATE_MODE_8BIT_TENSORWISE;
}

// The absmax each slot's codes in block b were written with (unused, and 0, in 32-bit mode).
template <int kSlots>
void current_absmax(const ParamStepView& v, int64_t block, float* absmax) {
    const int64_t index = v.mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? block : 0;
    for (int j = 0; j < kSlots; ++j) absmax[j] = is_8bit(v.mode) ? v.rows[j].absmax[index] : 0.0f;
}

// Runs the prologue and rule on elements [begin, begin + len). `old_absmax` holds each slot's absmax
// for 8-bit modes. Reads memory only.
template <class Rule, class T>
void compute_block(const ParamStepView& v, const StepScalars& k, int64_t begin, int len, const float* old_absmax,
                   BlockValues<Rule::kSlots>* out) {
    constexpr int kSlots = Rule::kSlots;
    const T* p = static_cast<const T*>(v.param) + begin;
    const T* g = static_cast<const T*>(v.grad) + begin;
    const bool quantized = is_8bit(v.mode);
    out->nonfinite = 0;
    for (int i = 0; i < len; ++i) {
        float pf = load_elem(p[i]);
        float s[kSlots > 0 ? kSlots : 1];
        for (int j = 0; j < kSlots; ++j) {
            s[j] = quantized ? dequantize(v.rows[j].tables, v.rows[j].codes[begin + i], old_absmax[j])
                             : v.values[j][begin + i];
        }
        ElementResult result;
        if constexpr (Rule::kTrustRatio) {
            result = direction_element<Rule>(pf, load_elem(g[i]), s, out->u[i], k, v.skip_zeros);
        } else {
            result = step_element<Rule>(pf, load_elem(g[i]), s, k, v.skip_zeros);
        }
        out->param[i] = pf;
        for (int j = 0; j < kSlots; ++j) out->state[j][i] = s[j];
        out->applied[i] = result == ElementResult::kApplied;
        out->nonfinite += result == ElementResult::kKeptNonFinite ? 1 : 0;
    }
}

template <int kSlots>
float block_absmax(const BlockValues<kSlots>& values, int slot, int len, float running) {
    for (int i = 0; i < len; ++i) running = absmax_accumulate(running, values.state[slot][i]);
    return running;
}

// One block's partial of R: `len` contributions, zeros in the remaining lanes.
inline double block_partial(float* lanes, int len) {
    for (int i = len; i < kReduceWidth; ++i) lanes[i] = 0.0f;
    return static_cast<double>(tree_sum(lanes));
}

// Stores the states of a block (tensor_scales: the tensor's scale per slot in tensor-wise mode).
template <int kSlots>
void store_states(const ParamStepView& v, int64_t block, int len, const BlockValues<kSlots>& values,
                  const BlockScale* tensor_scales) {
    const int64_t begin = block * kBlockSize;
    for (int j = 0; j < kSlots; ++j) {
        if (!is_8bit(v.mode)) {
            std::copy(values.state[j], values.state[j] + len, v.values[j] + begin);
            continue;
        }
        BlockScale scale;
        if (v.mode == BNB_STATE_MODE_8BIT_BLOCKWISE) {
            scale = block_scale(block_absmax(values, j, len, 0.0f));
            v.rows[j].absmax[block] = scale.absmax;
        } else {
            scale = tensor_scales[j];
        }
        uint8_t* codes = v.rows[j].codes + begin;
        for (int i = 0; i < len; ++i) codes[i] = quantize_value(v.rows[j].tables, values.state[j][i], scale);
    }
}

template <class Rule, class T>
void store_params(const ParamStepView& v, int64_t begin, int len, const BlockValues<Rule::kSlots>& values,
                  const StepScalars& k) {
    T* p = static_cast<T*>(v.param) + begin;
    for (int i = 0; i < len; ++i) {
        if (!values.applied[i]) continue;
        if constexpr (Rule::kTrustRatio) {
            if (k.lrs == 0.0f) continue;  // a zero trust ratio never writes the parameter (§7.2)
            p[i] = store_elem<T>(Rule::apply_direction(values.param[i], values.u[i], k));
        } else {
            p[i] = store_elem<T>(values.param[i]);
        }
    }
}

// What the pre-pass measures: each slot's tensor absmax and, for trust-ratio rules, the two norms.
template <int kSlots>
struct PrePass {
    float absmax[kSlots > 0 ? kSlots : 1] = {};
    double p_sq_norm = 0.0;
    double u_sq_norm = 0.0;
};

template <class Rule, class T>
PrePass<Rule::kSlots> pre_pass(const ParamStepView& v, const StepScalars& k, bool norms,
                               BlockValues<Rule::kSlots>* values) {
    constexpr int kSlots = Rule::kSlots;
    PrePass<kSlots> out;
    TreeAccumulator p_norm, u_norm;
    float lanes[kReduceWidth];
    const int64_t blocks = num_blocks(v.numel);
    for (int64_t b = 0; b < blocks; ++b) {
        const int len = block_length(v.numel, b);
        float old_absmax[kSlots > 0 ? kSlots : 1];
        current_absmax<kSlots>(v, b, old_absmax);
        compute_block<Rule, T>(v, k, b * kBlockSize, len, old_absmax, values);
        for (int j = 0; j < kSlots; ++j) out.absmax[j] = block_absmax(*values, j, len, out.absmax[j]);
        if (norms) {
            for (int i = 0; i < len; ++i) lanes[i] = values->param[i] * values->param[i];
            p_norm.add(block_partial(lanes, len));
            for (int i = 0; i < len; ++i) lanes[i] = values->u[i] * values->u[i];  // kept: u = 0
            u_norm.add(block_partial(lanes, len));
        }
    }
    out.p_sq_norm = p_norm.finish();
    out.u_sq_norm = u_norm.finish();
    return out;
}

template <class Rule, class T>
StepOutcome step_param_typed(ParamStepView v, StepScalars k) {
    constexpr int kSlots = Rule::kSlots;
    if (kSlots == 0) v.mode = BNB_STATE_MODE_32BIT;  // no states to store in any mode
    BlockValues<kSlots> values;
    StepOutcome outcome;
    const bool tensorwise = v.mode == BNB_STATE_MODE_8BIT_TENSORWISE;
    const bool norms = Rule::kTrustRatio && v.max_unorm > 0.0;
    BlockScale tensor_scales[kSlots > 0 ? kSlots : 1];
    if (tensorwise || norms) {
        const PrePass<kSlots> pre = pre_pass<Rule, T>(v, k, norms, &values);
        for (int j = 0; j < kSlots; ++j) tensor_scales[j] = block_scale(pre.absmax[j]);
        if (norms) {
            outcome.trust_ratio = trust_ratio(v.max_unorm, pre.p_sq_norm, pre.u_sq_norm);
            outcome.update_sq_norm = pre.u_sq_norm;
            k.lrs = static_cast<float>(v.lr * outcome.trust_ratio);
        }
    }
    // The tensor-wise codes are dequantized with the absmax they were written with, so it is replaced
    // only after the update pass.
    float tensor_absmax[kSlots > 0 ? kSlots : 1] = {};
    if (tensorwise) current_absmax<kSlots>(v, 0, tensor_absmax);
    const int64_t blocks = num_blocks(v.numel);
    for (int64_t b = 0; b < blocks; ++b) {
        const int len = block_length(v.numel, b);
        float old_absmax[kSlots > 0 ? kSlots : 1];
        if (tensorwise) {
            std::copy(tensor_absmax, tensor_absmax + kSlots, old_absmax);
        } else {
            current_absmax<kSlots>(v, b, old_absmax);
        }
        compute_block<Rule, T>(v, k, b * kBlockSize, len, old_absmax, &values);
        store_states(v, b, len, values, tensor_scales);
        store_params<Rule, T>(v, b * kBlockSize, len, values, k);
        outcome.nonfinite += values.nonfinite;
    }
    if (tensorwise) {
        for (int j = 0; j < kSlots; ++j) v.rows[j].absmax[0] = tensor_scales[j].absmax;
    }
    return outcome;
}

template <class Rule>
StepOutcome step_param_rule(const ParamStepView& v, const StepScalars& k) {
    switch (v.dtype) {
        case BNB_DTYPE_F32: return step_param_typed<Rule, float>(v, k);
        case BNB_DTYPE_F16: return step_param_typed<Rule, f16_t>(v, k);
        case BNB_DTYPE_BF16: return step_param_typed<Rule, bf16_t>(v, k);
    }
    return StepOutcome();
}

}  // namespace cpu
}  // namespace bnb
