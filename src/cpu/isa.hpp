// Which instruction set the CPU kernels use. Every path computes the same bits (the rules are one
// template, the lane primitives are exact IEEE operations); the choice only changes the speed.
//   - detected: the best kernels this build has and this CPU and OS support (cpuid and xgetbv);
//   - BNB8_CPU_ISA (read at the first step): scalar, avx2 or avx512 caps the choice (for comparisons
//     and for working around a broken CPU); an unknown value or a path the machine lacks gives the best
//     supported path below it;
//   - tests force a path with set_isa_for_testing().
#pragma once

namespace bnb {
namespace cpu {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* isa_name(Isa isa);

// The best path that is compiled in and that this machine supports.
Isa detected_isa();

// Whether this build and machine can run `isa`.
bool isa_available(Isa isa);

// The path a step uses now: the test override if set, else detected_isa() capped by BNB8_CPU_ISA.
Isa active_isa();

// Forces `isa` for every following step in the process and returns true, or returns false and changes
// nothing when `isa` is not available. clear_isa_for_testing() returns to the normal choice.
bool set_isa_for_testing(Isa isa);
void clear_isa_for_testing();

}  // namespace cpu
}  // namespace bnb
