// The AVX-512 kernels with VBMI byte permutes for dequantization (simd/lanes_avx512.hpp with
// BNB_AVX512_LANES_VBMI): this unit alone is compiled with the AVX-512 flags plus -mavx512vbmi, and its
// code runs only when cpu::active_isa() says the machine has them. Note [ISA units and inline functions].
#include "block_kernels.hpp"
#define BNB_AVX512_LANES_VBMI
#include "simd/lanes_avx512.hpp"

namespace bnb {
namespace cpu {

constexpr KernelTable kAvx512VbmiKernels = make_kernel_table<avx512_vbmi::Lanes>();

}  // namespace cpu
}  // namespace bnb
