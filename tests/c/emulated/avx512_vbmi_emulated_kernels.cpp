// The AVX-512 VBMI kernels (src/cpu/simd/lanes_avx512.hpp with BNB_AVX512_LANES_VBMI: byte-permute
// dequantization) on emulated AVX-512, as avx512_emulated_kernels.cpp compiles the plain ones, so the
// byte-plane logic (permute order, blends, unpacks) is checked on machines without VBMI.
#include "emulated/avx512_emulated_kernels.hpp"

#define BNB_AVX512_LANES_EMULATED
#define BNB_AVX512_LANES_VBMI
// Not flattened: that only matters for the units built with ISA flags (Note [ISA units and inline
// functions]), and flattening SIMDe's emulation makes this unit take minutes to compile.
#define BNB_KERNEL_ENTRY
#include "emulated/avx512_emulation.hpp"

#include "cpu/block_kernels.hpp"
#include "cpu/simd/lanes_avx512.hpp"

namespace bnb_test {

const bnb::cpu::KernelTable& avx512_vbmi_emulated_kernels() {
    static constexpr bnb::cpu::KernelTable table = bnb::cpu::make_kernel_table<bnb::cpu::avx512_vbmi_emulated::Lanes>();
    return table;
}

}  // namespace bnb_test
