// Which instruction set the CPU kernels use. Every path computes the same bits (the rules are one
// template, the lane primitives are exact IEEE operations); the choice only changes the speed.
//   - detected: the best kernels this build has and this CPU and OS support (cpuid and xgetbv);
//   - BNB8_CPU_ISA (read at the first step): scalar, avx2 or avx512 caps the choice (for comparisons
//     and for working around a broken CPU); an unknown value or a path the machine lacks gives the best
//     supported path below it;
//   - tests run any available path's kernel table, or one of their own, through
//     set_kernels_for_testing() (kernel_table.hpp).
#pragma once

namespace bnb {
namespace cpu {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* isa_name(Isa isa);

// The best path that is compiled in and that this machine supports.
Isa detected_isa();

// Whether this build and machine can run `isa`.
bool isa_available(Isa isa);

// The path steps use: detected_isa() capped by BNB8_CPU_ISA.
Isa active_isa();

}  // namespace cpu
}  // namespace bnb
