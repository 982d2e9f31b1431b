// The portable kernels: every rule and dtype with one element per lane (simd/lanes_scalar.hpp).
#include "block_kernels.hpp"
#include "simd/lanes_scalar.hpp"

namespace bnb {
namespace cpu {

constexpr KernelTable kScalarKernels = make_kernel_table<scalar::Lanes>();

}  // namespace cpu
}  // namespace bnb
