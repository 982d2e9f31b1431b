// The CPU block driver, one template over a lane policy L (simd/lanes_*.hpp), the rule and the
// parameter dtype T. Per 256-element block (ALGORITHMS.md §5.1): dequantize 8-bit states into an fp32
// scratch block (32-bit states are read and written in place), run the prologue and rule on L::kWidth
// lanes at a time (the rule is the shared template, rules/*.hpp), store the applied parameter elements,
// then requantize the states against the block's new absmax (§4), or the tensor's. The pre-pass (§5.4)
// runs the same computation without storing and returns the tensor absmax and the norms' partials.
// Every policy performs the float rule's operations lane by lane, so all instruction sets give the same
// bits. A block shorter than 256 (a tensor's last) is copied into zero-padded scratch, so the lanes never
// read or write past the tensor.
// Included only by the kernels_<isa>.cpp units.
//
// Note [all lanes applied]: rule_lanes() runs the rule on every lane into new values and judges each
// lane after the rule (usable gradient, not a skipped zero, finite new parameter and states); kept
// lanes get their old p and states back by a blend. In training almost every chunk applies all its
// lanes, and there the blends, the masked store and the non-finite count are about a quarter of the
// 32-bit step's instructions; such chunks take the new values directly. The test is on the judged mask,
// after the rule, so a huge gradient or an overflowing state never takes the shortcut.
// The lanes compute the same operations either way, so the bits are the same.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/kernel_table.hpp"
#include "rules/adam.hpp"
#include "rules/ademamix.hpp"
#include "rules/element.hpp"
#include "rules/lion.hpp"
#include "rules/reduce.hpp"
#include "rules/rmsprop.hpp"
#include "rules/sgd.hpp"
#include "rules/trust_ratio.hpp"

// Note [ISA units and inline functions]: the kernels_avx2/avx512 units are compiled with ISA flags. An
// inline function they share with the baseline code (a rule helper, std::min) that the compiler did not
// inline would be emitted there with AVX code, and the linker may keep that copy for every caller. The
// kernels' entry points are therefore flattened (everything they call is inlined into them), and a test
// (check_isa_objects.cmake) checks that those units define no shared weak symbols.
// A unit compiled without ISA flags may define BNB_KERNEL_ENTRY empty first (the emulated AVX-512 test
// kernels, whose flattened entry points take minutes to compile).
#if !defined(BNB_KERNEL_ENTRY) && defined(__GNUC__)
#define BNB_KERNEL_ENTRY __attribute__((flatten))
#elif !defined(BNB_KERNEL_ENTRY)
#define BNB_KERNEL_ENTRY
#endif

namespace bnb {
namespace cpu {

template <class L, class Rule, class T>
struct BlockKernel {
    static constexpr int kSlots = Rule::kSlots;
    static constexpr int kStates = kSlots > 0 ? kSlots : 1;
    static constexpr int kWidth = L::kWidth;
    using F = typename L::F;
    using Mask = typename L::Mask;

    struct Scratch {
        alignas(64) float state[kStates][kBlockSize];
        alignas(64) float p_sq[kBlockSize];  // pre-pass norms: p*p and u*u lanes, 0 past the tensor
        alignas(64) float u_sq[kBlockSize];
        alignas(64) T param[kBlockSize];  // a short block's elements, zero-padded
        alignas(64) T grad[kBlockSize];
        alignas(64) uint8_t codes[kStates][kBlockSize];
    };

    struct BlockResult {
        float absmax[kStates];
        int64_t nonfinite;
        double p_sq;
        double u_sq;
    };

    static bool quantized(const ParamStepView& v) {
        return v.mode == BNB_STATE_MODE_8BIT_BLOCKWISE || v.mode == BNB_STATE_MODE_8BIT_TENSORWISE;
    }

    // §7.1 level 0 for one block: the fixed pairwise tree over 256 fp32 lanes, kWidth lanes per add while
    // the stride allows, then element by element: the same additions in the same pairs as tree_sum().
    static float tree_sum_lanes(float* lanes) {
        int stride = kReduceWidth / 2;
        for (; stride >= kWidth; stride /= 2) {
            for (int j = 0; j < stride; j += kWidth) L::store(lanes + j, L::load(lanes + j) + L::load(lanes + j + stride));
        }
        for (; stride >= 1; stride /= 2) {
            for (int j = 0; j < stride; ++j) lanes[j] = lanes[j] + lanes[j + stride];
        }
        return lanes[0];
    }

    // One block. kUpdate: the update pass (stores parameters and states); otherwise the pre-pass, which
    // only measures. Tensor-wise codes are dequantized with args.old_absmax.
    template <bool kUpdate>
    static BlockResult run_block(const PassArgs& args, int64_t block, Scratch& sc) {
        const ParamStepView& v = args.view;
        const int64_t begin = block * kBlockSize;
        const int len = static_cast<int>(std::min<int64_t>(kBlockSize, v.numel - begin));
        const int padded = (len + kWidth - 1) / kWidth * kWidth;
        const bool short_block = len < kBlockSize;
        const bool is_8bit = quantized(v);
        T* p = static_cast<T*>(v.param) + begin;
        const T* g = static_cast<const T*>(v.grad) + begin;
        if (short_block) {
            std::memset(sc.param, 0, sizeof sc.param);
            std::memset(sc.grad, 0, sizeof sc.grad);
            std::memcpy(sc.param, p, sizeof(T) * static_cast<size_t>(len));
            std::memcpy(sc.grad, g, sizeof(T) * static_cast<size_t>(len));
            p = sc.param;
            g = sc.grad;
        }
        // Where the lanes read and write each slot's fp32 values: the scratch block, except for the full
        // blocks of 32-bit states, which are updated in place (no copy in and out; the pre-pass only reads).
        // The 8-bit codes of full blocks are dequantized by the lanes as they read them (fused_codes),
        // unless a slot's absmax is 0 (dequantize() gives +0.0 there, where the lanes' multiply would give
        // -0.0 for negative map entries); the other blocks' codes are dequantized into the scratch first.
        const auto absmax_of = [&](int j) {
            return v.mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? v.rows[j].absmax[block] : args.old_absmax[j];
        };
        // Lanes that dequantize whole blocks faster than per chunk (L::kDequantizeBlocks: byte permutes, 64
        // codes at a time) always go through the scratch block.
        bool fused = !L::kDequantizeBlocks && is_8bit && !short_block;
        for (int j = 0; j < kSlots; ++j) fused = fused && absmax_of(j) != 0.0f;
        float* state_of[kStates];
        const uint8_t* fused_codes[kStates] = {};
        F fused_absmax[kStates] = {};  // read only where set (fused); zeroed for -Wmaybe-uninitialized
        for (int j = 0; j < kSlots; ++j) {
            float* state = sc.state[j];
            state_of[j] = state;
            if (!is_8bit && !short_block) {
                state_of[j] = v.values[j] + begin;
            } else if (is_8bit) {
                const QuantRow& row = v.rows[j];
                const uint8_t* codes = row.codes + begin;
                const float absmax = absmax_of(j);
                fused_codes[j] = codes;
                fused_absmax[j] = F(absmax);
                if (short_block) {
                    std::memset(sc.codes[j], row.tables.zero_code, sizeof sc.codes[j]);
                    std::memcpy(sc.codes[j], codes, static_cast<size_t>(len));
                    codes = sc.codes[j];
                }
                if (!fused) L::dequantize_block(row.tables, args.select[j], codes, padded, absmax, state);
            } else {
                std::memcpy(state, v.values[j] + begin, sizeof(float) * static_cast<size_t>(len));
                std::fill(state + len, state + padded, 0.0f);
            }
        }

        // The scalars and switches live in locals: the stores below cannot alias them, so the compiler
        // keeps their broadcasts in registers.
        const StepScalars k = args.k;
        const bool skip_zeros = v.skip_zeros, norms = args.norms;
        F running[kStates];
        for (int j = 0; j < kStates; ++j) running[j] = F(0.0f);
        int64_t nonfinite = 0;
        // kTail: the last chunk of a short block, whose lanes past `len` are padding (absmax and norms
        // must not see them).
        const auto chunk = [&](int i, auto tail, auto fused_lanes) {
            constexpr bool kTail = decltype(tail)::value;
            constexpr bool kFused = decltype(fused_lanes)::value;
            F pv = L::load(p + i);
            const F gv = L::load(g + i);
            F s[kStates];
            for (int j = 0; j < kSlots; ++j) {
                if constexpr (kFused) {
                    s[j] = L::dequantize(v.rows[j].tables, fused_codes[j] + i, fused_absmax[j]);
                } else {
                    s[j] = L::load(state_of[j] + i);
                }
            }
            const Mask real = kTail ? L::first_lanes(len - i) : L::all();
            // Kept non-finite lanes (the padding lanes of a tail chunk are never counted).
            const auto count_real = [&](Mask m) { return L::count(kTail ? both(real, m) : m); };
            if constexpr (Rule::kTrustRatio) {
                F u;
                const LaneOutcome<Mask> r = direction_lanes<Rule>(pv, gv, s, u, k, skip_zeros);
                if (kUpdate) {
                    nonfinite += count_real(r.nonfinite);
                    if (k.lrs != 0.0f) {
                        F p_new;
                        const Mask written = trust_step_lanes<Rule>(pv, u, r.applied, k, p_new);
                        L::store_applied(p + i, written, p_new);
                        nonfinite += count_real(and_not(r.applied, written));
                    }
                } else if (norms) {  // p at step start; u = 0 where kept
                    L::store(sc.p_sq + i, kTail ? L::keep(real, pv * pv) : pv * pv);
                    L::store(sc.u_sq + i, kTail ? L::keep(real, u * u) : u * u);
                }
            } else {
                F p_new;
                F s_new[kStates];
                const Mask applied = rule_lanes<Rule>(pv, gv, s, p_new, s_new, k, skip_zeros);
                if (!kTail && L::all_set(applied)) {
                    // Note [all lanes applied]: the common chunk, without the blends that keep old values.
                    pv = p_new;
                    for (int j = 0; j < kSlots; ++j) s[j] = s_new[j];
                    if (kUpdate) L::store(p + i, pv);
                } else {
                    pv = if_then_else(applied, p_new, pv);
                    for (int j = 0; j < kSlots; ++j) s[j] = if_then_else(applied, s_new[j], s[j]);
                    if (kUpdate) L::store_applied(p + i, applied, pv);
                    if (kUpdate) nonfinite += count_real(outcome_of(applied, gv, skip_zeros).nonfinite);
                }
            }
            for (int j = 0; j < kSlots; ++j) {
                if (kUpdate) L::store(state_of[j] + i, s[j]);
                // Only 8-bit states are scaled by an absmax (block-wise here, tensor-wise in the pre-pass).
                if (kFused || is_8bit) running[j] = L::running_absmax(running[j], kTail ? L::keep(real, s[j]) : s[j]);
            }
        };
        const int full = len / kWidth * kWidth;
        if (fused) {  // a full block: no tail
            for (int i = 0; i < kBlockSize; i += kWidth) chunk(i, std::false_type(), std::true_type());
        } else {
            for (int i = 0; i < full; i += kWidth) chunk(i, std::false_type(), std::false_type());
            if (full < padded) chunk(full, std::true_type(), std::false_type());
        }

        BlockResult result{};
        result.nonfinite = nonfinite;
        for (int j = 0; j < kSlots; ++j) result.absmax[j] = L::lanes_absmax(running[j]);
        if (!kUpdate) {
            if (Rule::kTrustRatio && norms) {
                std::fill(sc.p_sq + padded, sc.p_sq + kBlockSize, 0.0f);
                std::fill(sc.u_sq + padded, sc.u_sq + kBlockSize, 0.0f);
                result.p_sq = static_cast<double>(tree_sum_lanes(sc.p_sq));
                result.u_sq = static_cast<double>(tree_sum_lanes(sc.u_sq));
            }
            return result;
        }
        if (short_block) std::memcpy(static_cast<T*>(v.param) + begin, sc.param, sizeof(T) * static_cast<size_t>(len));
        for (int j = 0; j < kSlots; ++j) {
            if (!is_8bit) {  // full blocks were updated in place
                if (short_block) {
                    std::memcpy(v.values[j] + begin, sc.state[j], sizeof(float) * static_cast<size_t>(len));
                }
                continue;
            }
            const QuantRow& row = v.rows[j];
            BlockScale scale;
            if (v.mode == BNB_STATE_MODE_8BIT_BLOCKWISE) {
                scale = block_scale(result.absmax[j]);
                row.absmax[block] = scale.absmax;
            } else {
                scale = args.tensor_scale[j];
            }
            uint8_t* codes = short_block ? sc.codes[j] : row.codes + begin;
            L::quantize_block(row.tables, args.select[j], sc.state[j], padded, scale, codes);
            if (short_block) std::memcpy(row.codes + begin, sc.codes[j], static_cast<size_t>(len));
        }
        return result;
    }

    // Note [8-bit prefetch]: the update pass of 8-bit states asks for block b + kPrefetchBlocks's
    // parameter and gradient lines (into L2) and codes and absmax (into L1) while it runs block b. On a
    // Zen 5 EPYC VM this took the one-thread 8-bit AdamW update over 32M elements from 2.85-3.00 to
    // 2.22-2.88 TSC ticks per element on 4 KiB pages (distances 1-8 measured, 2 best) and from 2.34-2.42
    // to 2.04-2.06 on huge pages, and the 2-thread 8-bit AdamW step from 44-47 to 35 ms (bench/README.md).
    // 32-bit states are not prefetched: there the same hints made the step slower (1.1 -> 1.7 ticks).
    // Prefetches change no result.
    static constexpr int64_t kPrefetchBlocks = 2;

    static void prefetch_block(const ParamStepView& v, int64_t block) {
#if defined(__GNUC__)
        const int64_t begin = block * kBlockSize;
        const char* p = reinterpret_cast<const char*>(static_cast<const T*>(v.param) + begin);
        const char* g = reinterpret_cast<const char*>(static_cast<const T*>(v.grad) + begin);
        for (int o = 0; o < static_cast<int>(sizeof(T)) * kBlockSize; o += 64) {
            __builtin_prefetch(p + o, 0, 2);
            __builtin_prefetch(g + o, 0, 2);
        }
        for (int j = 0; j < kSlots; ++j) {
            const char* codes = reinterpret_cast<const char*>(v.rows[j].codes + begin);
            for (int o = 0; o < kBlockSize; o += 64) __builtin_prefetch(codes + o, 0, 3);
            if (v.mode == BNB_STATE_MODE_8BIT_BLOCKWISE) __builtin_prefetch(v.rows[j].absmax + block, 0, 3);
        }
#else
        (void)v;
        (void)block;
#endif
    }

    BNB_KERNEL_ENTRY static int64_t update(const PassArgs& args, int64_t first_block, int64_t end_block) {
        Scratch sc;
        int64_t nonfinite = 0;
        const bool prefetch = quantized(args.view);
        for (int64_t b = first_block; b < end_block; ++b) {
            // Within this worker's blocks (a hint past the tensor's end, in a short last block, cannot fault).
            if (prefetch && b + kPrefetchBlocks < end_block) prefetch_block(args.view, b + kPrefetchBlocks);
            nonfinite += run_block<true>(args, b, sc).nonfinite;
        }
        return nonfinite;
    }

    BNB_KERNEL_ENTRY static void pre_pass(const PassArgs& args, int64_t first_block, int64_t end_block,
                                          RunResult* out) {
        Scratch sc;
        double p_partials[kReduceWidth] = {}, u_partials[kReduceWidth] = {};
        float absmax[kStates] = {};
        for (int64_t b = first_block; b < end_block; ++b) {
            const BlockResult r = run_block<false>(args, b, sc);
            for (int j = 0; j < kSlots; ++j) absmax[j] = absmax_accumulate(absmax[j], r.absmax[j]);
            p_partials[b - first_block] = r.p_sq;
            u_partials[b - first_block] = r.u_sq;
        }
        *out = RunResult{};
        for (int j = 0; j < kSlots; ++j) out->absmax[j] = absmax[j];
        out->p_sq = tree_sum(p_partials);  // this run's node at level 1 of §7.1
        out->u_sq = tree_sum(u_partials);
    }
};

// The table of every rule variant and dtype for the lane policy L.
template <class L, class Rule>
constexpr PassKernels kernels_of(int dtype_index) {
    return dtype_index == 0 ? PassKernels{&BlockKernel<L, Rule, float>::update,
                                          &BlockKernel<L, Rule, float>::pre_pass, Rule::kSlots}
           : dtype_index == 1
               ? PassKernels{&BlockKernel<L, Rule, f16_t>::update, &BlockKernel<L, Rule, f16_t>::pre_pass, Rule::kSlots}
               : PassKernels{&BlockKernel<L, Rule, bf16_t>::update, &BlockKernel<L, Rule, bf16_t>::pre_pass,
                             Rule::kSlots};
}

template <class L, class Rule>
constexpr void fill_rule(KernelTable& table, RuleId id) {
    for (int d = 0; d < kDtypeCount; ++d) table.kernels[static_cast<int>(id)][d] = kernels_of<L, Rule>(d);
}

template <class L>
BNB_KERNEL_ENTRY void quantize_kernel(const QuantTables& q, const SelectTable* table, const float* s, int n,
                                      const BlockScale& scale, uint8_t* codes) {
    L::quantize_block(q, table, s, n, scale, codes);
}

template <class L>
BNB_KERNEL_ENTRY void dequantize_kernel(const QuantTables& q, const SelectTable* table, const uint8_t* codes, int n,
                                        float absmax, float* out) {
    L::dequantize_block(q, table, codes, n, absmax, out);
}

template <class L>
constexpr KernelTable make_kernel_table() {
    KernelTable table{};
    table.quantize = &quantize_kernel<L>;
    table.dequantize = &dequantize_kernel<L>;
    fill_rule<L, AdamL2Rule>(table, RuleId::kAdamL2);
    fill_rule<L, AdamWRule>(table, RuleId::kAdamW);
    fill_rule<L, SgdPlainRule>(table, RuleId::kSgdPlain);
    fill_rule<L, SgdMomentumRule<false>>(table, RuleId::kSgdMomentum);
    fill_rule<L, SgdMomentumRule<true>>(table, RuleId::kSgdNesterov);
    fill_rule<L, LionRule>(table, RuleId::kLion);
    fill_rule<L, LambRule>(table, RuleId::kLamb);
    fill_rule<L, LarsRule>(table, RuleId::kLars);
    fill_rule<L, RmspropRule>(table, RuleId::kRmsprop);
    fill_rule<L, AdagradRule>(table, RuleId::kAdagrad);
    fill_rule<L, AdemamixRule>(table, RuleId::kAdemamix);
    return table;
}

}  // namespace cpu
}  // namespace bnb
