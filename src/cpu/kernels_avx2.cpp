// The AVX2 kernels (simd/lanes_avx2.hpp): this unit alone is compiled with -mavx2 -mf16c, and its code
// runs only when cpu::active_isa() says the machine has them. Note [ISA units and inline functions].
#include "block_kernels.hpp"
#include "simd/lanes_avx2.hpp"

namespace bnb {
namespace cpu {

constexpr KernelTable kAvx2Kernels = make_kernel_table<avx2::Lanes>();

}  // namespace cpu
}  // namespace bnb
