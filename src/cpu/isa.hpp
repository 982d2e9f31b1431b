// Which instruction set the CPU kernels use. Every path computes the same bits (the rules are one
// template, the lane primitives are exact IEEE operations); the choice only changes the speed.
//   - detected: the fastest kernels this build has and this CPU and OS support (cpuid and xgetbv), in
//     the CPU's order of preference (Note [path preference], isa.cpp): never a path measured slower
//     than another available one on that CPU family;
//   - BNB8_CPU_ISA (read at the first step): scalar, avx2, avx512 or avx512vbmi caps the choice (for
//     comparisons and for working around a broken CPU): the preferred supported path not above it; an
//     unknown value is no cap;
//   - tests run any available path's kernel table, or one of their own, through
//     set_kernels_for_testing() (kernel_table.hpp).
#pragma once

namespace bnb {
namespace cpu {

// In order of the instructions each needs: kAvx512Vbmi is kAvx512 plus AVX512_VBMI (byte permutes).
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kAvx512Vbmi = 3 };

const char* isa_name(Isa isa);

// The preferred path among those compiled in and supported by this machine.
Isa detected_isa();

// Whether this build and machine can run `isa`.
bool isa_available(Isa isa);

// The path steps use: the preferred path not above BNB8_CPU_ISA's cap.
Isa active_isa();

}  // namespace cpu
}  // namespace bnb
