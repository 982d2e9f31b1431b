// Host-side CUDA memory services behind the CUDA DeviceBackend (device_backend.cpp), which StateBuffer
// and the checks of CUDA tensors call. Plain C++ (no CUDA types); a build without CUDA links the
// versions in no_cuda.cpp, which return BNB_ERR_UNSUPPORTED (never reached there: CUDA tensors are
// rejected first).
// Every CUDA error becomes a Status naming the call; nothing aborts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/memory_placement.hpp"
#include "core/status.hpp"

namespace bnb {
namespace cuda {

// Whether this build has the CUDA backend (BNB_FEATURE_CUDA).
bool compiled_in();

// The number of usable CUDA devices; BNB_ERR_NO_CUDA_DEVICE (with the reason: no driver, no device,
// CUDA_VISIBLE_DEVICES hiding them) when there is none.
Status device_count(int32_t* out);

// Checks that `ordinal` is a usable device and that `data` (when not NULL) is device or managed memory
// accessible on it. `name` prefixes messages ("param").
Status check_device_pointer(const void* data, int32_t ordinal, const char* name);

// Whether `ordinal` supports managed memory (paged states fall back to device memory otherwise).
bool supports_managed_memory(int32_t ordinal);

// Allocates `bytes` (> 0) of device or managed memory on `where.device`.
Status allocate(size_t bytes, const Placement& where, const char* what, void** out);
// Frees what allocate() returned; errors are ignored (a destructor cannot report them).
void release(void* data, const Placement& where) noexcept;
// Sets `bytes` bytes at `data` to `value` and waits for it.
Status fill(void* data, uint8_t value, size_t bytes, const Placement& where);
// Copies between any two of host, device and managed memory and waits for the copy.
Status copy(void* dst, const void* src, size_t bytes, int32_t device);

// Where the pages of a managed buffer were last prefetched to: an ordinal, BNB_DEVICE_CPU, or
// BNB_DEVICE_UNKNOWN (never prefetched, or split between places).
Status last_prefetch_location(const void* data, size_t bytes, int32_t device, int32_t* out);

}  // namespace cuda
}  // namespace bnb
