// Host memory for optimizer states: 64-byte aligned (whole cache lines, aligned vector loads), and for
// large buffers backed by transparent huge pages where the kernel offers them.
//
// Why huge pages: a step streams through the parameter, the gradient and every state row once, so with
// 4 KiB pages each row costs a TLB miss per 4 KiB, and on virtual machines (nested paging) a miss is a
// two-level page walk. Measured on a 2-core EPYC VM, 32-bit AdamW over 32M fp32 parameters, one thread:
// 44.3 ms per step with the states on 4 KiB pages, 22.3 ms on 2 MiB pages (bench/bench_cpu.py). The
// states are ours to place; the caller's parameter and gradient are not touched. Linux only
// (madvise(MADV_HUGEPAGE), the same request numpy makes for its large arrays); elsewhere, or when the
// kernel declines, the buffer is ordinary memory and only slower.
#pragma once

#include <cstddef>

namespace bnb {

// At least `bytes` bytes (> 0), 64-byte aligned, or nullptr when there is no memory. Release with
// host_release(). Contents are unspecified.
void* host_allocate(size_t bytes);
void host_release(void* data) noexcept;

}  // namespace bnb
