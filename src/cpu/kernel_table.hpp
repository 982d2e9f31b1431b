// The CPU kernels of one instruction set: for every rule variant and parameter dtype, the update pass
// and the pre-pass over a range of 256-element blocks (block_kernels.hpp). One table per ISA, each in
// its own translation unit compiled for that ISA; the tables are constant data, so nothing of an ISA's
// code runs before cpu::active_isa() has chosen it.
#pragma once

#include <cstdint>

#include "cpu/isa.hpp"
#include "cpu/param_view.hpp"
#include "cpu/select_table.hpp"
#include "core/rule_id.hpp"
#include "rules/quant.hpp"
#include "rules/scalars.hpp"

namespace bnb {
namespace cpu {

constexpr int kDtypeCount = 3;  // bnb_dtype 1..3: fp32, fp16, bf16

// Everything a pass over one parameter's blocks reads.
struct PassArgs {
    ParamStepView view;
    StepScalars k;
    float old_absmax[kMaxSlots];           // tensor-wise: the absmax each slot's codes were written with
    BlockScale tensor_scale[kMaxSlots];    // tensor-wise update pass: each slot's new scale
    const SelectTable* select[kMaxSlots];  // 8-bit: each slot's lane select table (nullptr: per element)
    bool norms;                            // pre-pass: also the trust-ratio norms
};

// The pre-pass over up to 256 consecutive blocks starting at a multiple of 256 (one run of §7.1's
// level-1 tree): each slot's absmax over them and the tree sums of their block partials of p*p, u*u.
struct RunResult {
    float absmax[kMaxSlots];
    double p_sq;
    double u_sq;
};

// Returns the non-finite gradient elements of blocks [first_block, end_block), after updating them.
using UpdateKernel = int64_t (*)(const PassArgs& args, int64_t first_block, int64_t end_block);
using PrePassKernel = void (*)(const PassArgs& args, int64_t first_block, int64_t end_block, RunResult* out);

struct PassKernels {
    UpdateKernel update;
    PrePassKernel pre_pass;
    int slots;  // the rule's kSlots: fp32 state values per element
};

// Codes for n values of one block scaled by `scale` (n <= 256, a multiple of 16): quantize_value() of
// each, by the ISA's lanes.
using QuantizeKernel = void (*)(const QuantTables& q, const SelectTable* table, const float* s, int n,
                                const BlockScale& scale, uint8_t* codes);

// out[i] = dequantize(q, codes[i], absmax) for n codes (a multiple of 16); `table` is select_table_for(q)
// (nullptr allowed), whose byte planes some lanes use.
using DequantizeKernel = void (*)(const QuantTables& q, const SelectTable* table, const uint8_t* codes, int n,
                                  float absmax, float* out);

struct KernelTable {
    PassKernels kernels[kRuleCount][kDtypeCount];  // [rule][dtype - 1]
    QuantizeKernel quantize;
    DequantizeKernel dequantize;
};

// The table of `isa`, which must be available (isa_available()).
const KernelTable& kernels_for(Isa isa);

// Tests only: every following step runs `table` instead of kernels_for(active_isa()); nullptr returns
// to the normal choice. A test passes kernels_for() of each available ISA, or lanes this machine cannot
// execute compiled on emulated instructions (tests/c/emulated/). The table must outlive those steps.
void set_kernels_for_testing(const KernelTable* table);

extern const KernelTable kScalarKernels;
#if defined(BNB_HAVE_AVX2_KERNELS)
extern const KernelTable kAvx2Kernels;
#endif
#if defined(BNB_HAVE_AVX512_KERNELS)
extern const KernelTable kAvx512Kernels;
extern const KernelTable kAvx512VbmiKernels;
#endif

}  // namespace cpu
}  // namespace bnb
