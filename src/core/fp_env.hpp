// Note [floating-point environment]: the contract (ALGORITHMS.md §1.2) forbids flush-to-zero and
// denormals-are-zero and requires round-to-nearest-even. A caller's thread may have any of these set
// (some frameworks enable FTZ/DAZ for speed), so a step runs under this guard, which sets the contract's
// mode on entry and restores the caller's exactly on exit. It lives in core because core's own host
// arithmetic (step scalars, clipping) needs the mode as much as the CPU kernels and their threads do.
#pragma once

#include <cstdint>

namespace bnb {

class FpEnvGuard {
public:
    FpEnvGuard();
    ~FpEnvGuard();
    FpEnvGuard(const FpEnvGuard&) = delete;
    FpEnvGuard& operator=(const FpEnvGuard&) = delete;

private:
    uint64_t saved_ = 0;
    bool changed_ = false;
};

}  // namespace bnb
