// Compiles the shared rules (src/core/rules) as CUDA device code, with the floating-point contract's
// flags, for every configured architecture: the CUDA backend will include exactly these headers, so a
// construct nvcc rejects (or a host-only call) fails the build here, not later.
#include <cstdint>

#include "rules/adam.hpp"
#include "rules/convert.hpp"
#include "rules/element.hpp"
#include "rules/quant.hpp"

namespace bnb_device_check {

template <class Rule, class T>
__global__ void step_block_check(T* param, const T* grad, uint8_t* codes, float* absmax, bnb::QuantTables q,
                                 bnb::StepScalars k, int64_t n) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = bnb::load_elem(param[i]);
    float s[Rule::kSlots];
    for (int j = 0; j < Rule::kSlots; ++j) s[j] = bnb::dequantize(q, codes[i], absmax[i / bnb::kBlockSize]);
    const bnb::ElementResult r = bnb::step_element<Rule>(p, bnb::load_elem(grad[i]), s, k, false);
    const bnb::BlockScale scale = bnb::block_scale(bnb::absmax_accumulate(0.0f, s[0]));
    codes[i] = bnb::quantize_value(q, s[0], scale);
    if (r == bnb::ElementResult::kApplied) param[i] = bnb::store_elem<T>(p);
}

}  // namespace bnb_device_check

// Explicit instantiations: every rule with every parameter storage type.
template __global__ void bnb_device_check::step_block_check<bnb::AdamL2Rule, float>(float*, const float*, uint8_t*, float*, bnb::QuantTables, bnb::StepScalars, int64_t);
template __global__ void bnb_device_check::step_block_check<bnb::AdamWRule, bnb::f16_t>(bnb::f16_t*, const bnb::f16_t*, uint8_t*, float*, bnb::QuantTables, bnb::StepScalars, int64_t);
template __global__ void bnb_device_check::step_block_check<bnb::AdamWRule, bnb::bf16_t>(bnb::bf16_t*, const bnb::bf16_t*, uint8_t*, float*, bnb::QuantTables, bnb::StepScalars, int64_t);
