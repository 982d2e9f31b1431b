#include "isa.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define BNB_ISA_X86 1
#endif

namespace bnb {
namespace cpu {
namespace {

#if defined(BNB_ISA_X86)
uint64_t read_xcr0() {
    uint32_t eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<uint64_t>(edx) << 32) | eax;
}

// The AVX2 kernels also use F16C (fp16 conversion); the AVX-512 ones F, BW, DQ and VL, the VBMI ones
// also AVX512_VBMI. The OS must save the wider registers (XCR0), or the instructions fault even where
// cpuid lists them.
Isa probe_cpu() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return Isa::kScalar;
    const bool osxsave = (ecx >> 27) & 1u, avx = (ecx >> 28) & 1u, f16c = (ecx >> 29) & 1u;
    if (!osxsave || !avx || !f16c) return Isa::kScalar;
    const uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6u) != 0x6u) return Isa::kScalar;  // XMM and YMM state
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return Isa::kScalar;
    const bool avx2 = (ebx >> 5) & 1u;
    if (!avx2) return Isa::kScalar;
    const bool avx512 = ((ebx >> 16) & 1u) && ((ebx >> 17) & 1u) && ((ebx >> 30) & 1u) && ((ebx >> 31) & 1u);
    const bool vbmi = (ecx >> 1) & 1u;
    if (avx512 && (xcr0 & 0xE0u) == 0xE0u) return vbmi ? Isa::kAvx512Vbmi : Isa::kAvx512;  // opmask, ZMM
    return Isa::kAvx2;
}

#endif

// Note [path preference]: the paths from fastest to slowest, as measured (bench/README.md,
// bench_cpu_phases): on AMD Zen 5 (EPYC, family 0x1A) the VBMI lanes, then the plain AVX-512 lanes, then
// AVX2 (8-bit AdamW update in L2: 1.9, 2.6 and 3.0 TSC ticks per element). A CPU family measured to
// order them differently gets its own order here.
constexpr Isa kPreference[] = {Isa::kAvx512Vbmi, Isa::kAvx512, Isa::kAvx2, Isa::kScalar};

// What this build compiled (cmake/the CPU kernels' flags define these).
Isa compiled_isa() {
#if defined(BNB_HAVE_AVX512_KERNELS)
    return Isa::kAvx512Vbmi;
#elif defined(BNB_HAVE_AVX2_KERNELS)
    return Isa::kAvx2;
#else
    return Isa::kScalar;
#endif
}

Isa env_cap() {
    const char* value = std::getenv("BNB8_CPU_ISA");
    if (value == nullptr || value[0] == '\0') return Isa::kAvx512Vbmi;
    if (std::strcmp(value, "scalar") == 0) return Isa::kScalar;
    if (std::strcmp(value, "avx2") == 0) return Isa::kAvx2;
    if (std::strcmp(value, "avx512") == 0) return Isa::kAvx512;
    return Isa::kAvx512Vbmi;  // "avx512vbmi", "auto" and anything else: no cap
}

Isa lower(Isa a, Isa b) { return static_cast<int>(a) < static_cast<int>(b) ? a : b; }

Isa supported_isa() {
#if defined(BNB_ISA_X86)
    static const Isa supported = lower(probe_cpu(), compiled_isa());
    return supported;
#else
    return Isa::kScalar;
#endif
}

// The first path of this CPU's preference that it supports and that is not above `cap`.
Isa preferred_at_most(Isa cap) {
    for (Isa isa : kPreference) {
        if (static_cast<int>(isa) <= static_cast<int>(cap) && isa_available(isa)) return isa;
    }
    return Isa::kScalar;
}

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::kScalar: return "scalar";
        case Isa::kAvx2: return "avx2";
        case Isa::kAvx512: return "avx512";
        case Isa::kAvx512Vbmi: return "avx512vbmi";
    }
    return "unknown";
}

Isa detected_isa() { return preferred_at_most(Isa::kAvx512Vbmi); }

bool isa_available(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(supported_isa()); }

Isa active_isa() {
    static const Isa chosen = preferred_at_most(env_cap());
    return chosen;
}

}  // namespace cpu
}  // namespace bnb
