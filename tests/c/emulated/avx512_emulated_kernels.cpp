// The AVX-512 kernels (src/cpu/simd/lanes_avx512.hpp, the same block driver) compiled on emulated
// AVX-512 (avx512_emulation.hpp), so test_cpu_dispatch can compare their bits with the scalar path on
// machines without AVX-512, CI's included. It checks the lanes' logic (masks, widths, tails, packing);
// only a machine with AVX-512 checks the instructions themselves (the real path, in the same test).
#include "emulated/avx512_emulated_kernels.hpp"

#define BNB_AVX512_LANES_EMULATED
// Not flattened: that only matters for the units built with ISA flags (Note [ISA units and inline
// functions]), and flattening SIMDe's emulation makes this unit take minutes to compile.
#define BNB_KERNEL_ENTRY
#include "emulated/avx512_emulation.hpp"

#include "cpu/block_kernels.hpp"
#include "cpu/simd/lanes_avx512.hpp"

namespace bnb_test {

const bnb::cpu::KernelTable& avx512_emulated_kernels() {
    static constexpr bnb::cpu::KernelTable table = bnb::cpu::make_kernel_table<bnb::cpu::avx512_emulated::Lanes>();
    return table;
}

}  // namespace bnb_test
