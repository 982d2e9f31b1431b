// The CPU loops over the shared rules: 32-bit states, 8-bit block-wise states (one block of 256 at a
// time: dequantize, rule, absmax, requantize, store) and 8-bit tensor-wise states (a pre-pass computes
// each state's tensor absmax, the update pass recomputes the same values and stores them).
// Each returns the number of non-finite gradient elements it kept.
#pragma once

#include <algorithm>
#include <cstdint>

#include "param_view.hpp"
#include "rules/convert.hpp"
#include "rules/element.hpp"
#include "rules/quant.hpp"

namespace bnb {
namespace cpu {

template <class Rule, class T>
int64_t step_32bit(const ParamStepView& v, const StepScalars& k) {
    T* p = static_cast<T*>(v.param);
    const T* g = static_cast<const T*>(v.grad);
    int64_t nonfinite = 0;
    for (int64_t i = 0; i < v.numel; ++i) {
        float pf = load_elem(p[i]);
        float s[Rule::kSlots];
        for (int j = 0; j < Rule::kSlots; ++j) s[j] = v.values[j][i];
        const ElementResult result = step_element<Rule>(pf, load_elem(g[i]), s, k, v.skip_zeros);
        if (result == ElementResult::kApplied) {
            p[i] = store_elem<T>(pf);
            for (int j = 0; j < Rule::kSlots; ++j) v.values[j][i] = s[j];
        } else if (result == ElementResult::kKeptNonFinite) {
            ++nonfinite;
        }
    }
    return nonfinite;
}

// New fp32 values of up to one block of elements, before requantization.
template <int kSlots>
struct BlockValues {
    float param[kBlockSize];
    float state[kSlots][kBlockSize];
    bool applied[kBlockSize];
    int64_t nonfinite;
};

// Runs the prologue and rule on elements [begin, begin + len), dequantizing each slot with `old_absmax`.
template <class Rule, class T>
void compute_block(const ParamStepView& v, const StepScalars& k, int64_t begin, int len,
                   const float* old_absmax, BlockValues<Rule::kSlots>* out) {
    const T* p = static_cast<const T*>(v.param) + begin;
    const T* g = static_cast<const T*>(v.grad) + begin;
    out->nonfinite = 0;
    for (int i = 0; i < len; ++i) {
        float pf = load_elem(p[i]);
        float s[Rule::kSlots];
        for (int j = 0; j < Rule::kSlots; ++j) {
            s[j] = dequantize(v.rows[j].tables, v.rows[j].codes[begin + i], old_absmax[j]);
        }
        const ElementResult result = step_element<Rule>(pf, load_elem(g[i]), s, k, v.skip_zeros);
        out->param[i] = pf;
        for (int j = 0; j < Rule::kSlots; ++j) out->state[j][i] = s[j];
        out->applied[i] = result == ElementResult::kApplied;
        out->nonfinite += result == ElementResult::kKeptNonFinite ? 1 : 0;
    }
}

template <int kSlots>
float block_absmax(const BlockValues<kSlots>& values, int slot, int len, float running) {
    for (int i = 0; i < len; ++i) running = absmax_accumulate(running, values.state[slot][i]);
    return running;
}

template <class T, int kSlots>
void store_block(const ParamStepView& v, int64_t begin, int len, const BlockValues<kSlots>& values,
                 const BlockScale* scales) {
    for (int j = 0; j < kSlots; ++j) {
        uint8_t* codes = v.rows[j].codes + begin;
        for (int i = 0; i < len; ++i) codes[i] = quantize_value(v.rows[j].tables, values.state[j][i], scales[j]);
    }
    T* p = static_cast<T*>(v.param) + begin;
    for (int i = 0; i < len; ++i) {
        if (values.applied[i]) p[i] = store_elem<T>(values.param[i]);
    }
}

inline int block_length(int64_t numel, int64_t block) {
    return static_cast<int>(std::min<int64_t>(kBlockSize, numel - block * kBlockSize));
}

template <class Rule, class T>
int64_t step_8bit_blockwise(const ParamStepView& v, const StepScalars& k) {
    constexpr int kSlots = Rule::kSlots;
    BlockValues<kSlots> values;
    int64_t nonfinite = 0;
    const int64_t blocks = num_blocks(v.numel);
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t begin = b * kBlockSize;
        const int len = block_length(v.numel, b);
        float old_absmax[kSlots];
        for (int j = 0; j < kSlots; ++j) old_absmax[j] = v.rows[j].absmax[b];
        compute_block<Rule, T>(v, k, begin, len, old_absmax, &values);
        BlockScale scales[kSlots];
        for (int j = 0; j < kSlots; ++j) {
            scales[j] = block_scale(block_absmax(values, j, len, 0.0f));
            v.rows[j].absmax[b] = scales[j].absmax;
        }
        store_block<T>(v, begin, len, values, scales);
        nonfinite += values.nonfinite;
    }
    return nonfinite;
}

template <class Rule, class T>
int64_t step_8bit_tensorwise(const ParamStepView& v, const StepScalars& k) {
    constexpr int kSlots = Rule::kSlots;
    BlockValues<kSlots> values;
    const int64_t blocks = num_blocks(v.numel);
    float old_absmax[kSlots];
    float absmax[kSlots];
    for (int j = 0; j < kSlots; ++j) {
        old_absmax[j] = v.rows[j].absmax[0];
        absmax[j] = 0.0f;
    }
    // Pre-pass (§5.4): the same prologue and rule on the same inputs, storing nothing.
    for (int64_t b = 0; b < blocks; ++b) {
        const int len = block_length(v.numel, b);
        compute_block<Rule, T>(v, k, b * kBlockSize, len, old_absmax, &values);
        for (int j = 0; j < kSlots; ++j) absmax[j] = block_absmax(values, j, len, absmax[j]);
    }
    BlockScale scales[kSlots];
    for (int j = 0; j < kSlots; ++j) scales[j] = block_scale(absmax[j]);
    // Update pass: bitwise the same values, quantized against the tensor's absmax.
    int64_t nonfinite = 0;
    for (int64_t b = 0; b < blocks; ++b) {
        const int len = block_length(v.numel, b);
        compute_block<Rule, T>(v, k, b * kBlockSize, len, old_absmax, &values);
        store_block<T>(v, b * kBlockSize, len, values, scales);
        nonfinite += values.nonfinite;
    }
    for (int j = 0; j < kSlots; ++j) v.rows[j].absmax[0] = scales[j].absmax;
    return nonfinite;
}

template <class Rule, class T>
int64_t step_param_typed(const ParamStepView& v, const StepScalars& k) {
    switch (v.mode) {
        case BNB_STATE_MODE_32BIT: return step_32bit<Rule, T>(v, k);
        case BNB_STATE_MODE_8BIT_BLOCKWISE: return step_8bit_blockwise<Rule, T>(v, k);
        case BNB_STATE_MODE_8BIT_TENSORWISE: return step_8bit_tensorwise<Rule, T>(v, k);
        case BNB_STATE_MODE_NONE: break;
    }
    return 0;
}

template <class Rule>
int64_t step_param_rule(const ParamStepView& v, const StepScalars& k) {
    switch (v.dtype) {
        case BNB_DTYPE_F32: return step_param_typed<Rule, float>(v, k);
        case BNB_DTYPE_F16: return step_param_typed<Rule, f16_t>(v, k);
        case BNB_DTYPE_BF16: return step_param_typed<Rule, bf16_t>(v, k);
    }
    return 0;
}

}  // namespace cpu
}  // namespace bnb
