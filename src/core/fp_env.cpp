#include "fp_env.hpp"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define BNB_FP_ENV_X86 1
#elif defined(__aarch64__)
#define BNB_FP_ENV_AARCH64 1
#endif

namespace bnb {

#if defined(BNB_FP_ENV_X86)
namespace {
constexpr uint32_t kFlushToZero = 1u << 15;
constexpr uint32_t kDenormalsAreZero = 1u << 6;
constexpr uint32_t kRoundingControl = 3u << 13;  // 00 = round to nearest even
}  // namespace

FpEnvGuard::FpEnvGuard() {
    const uint32_t csr = _mm_getcsr();
    const uint32_t wanted = csr & ~(kFlushToZero | kDenormalsAreZero | kRoundingControl);
    saved_ = csr;
    if (wanted != csr) {
        _mm_setcsr(wanted);
        changed_ = true;
    }
}

FpEnvGuard::~FpEnvGuard() {
    if (changed_) _mm_setcsr(static_cast<uint32_t>(saved_));
}

#elif defined(BNB_FP_ENV_AARCH64)
namespace {
constexpr uint64_t kFlushToZero = 1ull << 24;
constexpr uint64_t kRoundingMode = 3ull << 22;  // 00 = round to nearest even
}  // namespace

FpEnvGuard::FpEnvGuard() {
    uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    const uint64_t wanted = fpcr & ~(kFlushToZero | kRoundingMode);
    saved_ = fpcr;
    if (wanted != fpcr) {
        __asm__ __volatile__("msr fpcr, %0" : : "r"(wanted));
        changed_ = true;
    }
}

FpEnvGuard::~FpEnvGuard() {
    if (changed_) __asm__ __volatile__("msr fpcr, %0" : : "r"(saved_));
}

#else
// Other architectures: no FTZ/DAZ control is known here; the default environment is assumed.
FpEnvGuard::FpEnvGuard() {}
FpEnvGuard::~FpEnvGuard() {}
#endif

}  // namespace bnb
