// The AVX-512 kernels (simd/lanes_avx512.hpp): this unit alone is compiled with the AVX-512 flags, and
// its code runs only when cpu::active_isa() says the machine has them. Note [ISA units and inline
// functions].
#include "block_kernels.hpp"
#include "simd/lanes_avx512.hpp"

namespace bnb {
namespace cpu {

constexpr KernelTable kAvx512Kernels = make_kernel_table<avx512::Lanes>();

}  // namespace cpu
}  // namespace bnb
