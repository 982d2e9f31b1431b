// Where a buffer of optimizer state lives: host memory (CPU parameters), CUDA device memory, or CUDA
// managed memory (paged states, ALGORITHMS.md §9). StateBuffer carries it, so code that reads or copies
// states asks the buffer instead of testing devices.
#pragma once

#include <cstdint>

#include "bnb8.h"

namespace bnb {

enum class MemoryKind : uint8_t { kHost, kDevice, kManaged };

struct Placement {
    MemoryKind kind = MemoryKind::kHost;
    int32_t device = BNB_DEVICE_CPU;  // the CUDA ordinal of device and managed memory

    static Placement host() { return Placement{}; }
    static Placement on_device(int32_t ordinal) { return Placement{MemoryKind::kDevice, ordinal}; }
    static Placement managed(int32_t ordinal) { return Placement{MemoryKind::kManaged, ordinal}; }
    bool operator==(const Placement& other) const { return kind == other.kind && device == other.device; }
    bool operator!=(const Placement& other) const { return !(*this == other); }
};

// The bnb_memory_kind of a buffer in `where`.
inline bnb_memory_kind public_memory_kind(const Placement& where) {
    switch (where.kind) {
        case MemoryKind::kHost: return BNB_MEMORY_HOST;
        case MemoryKind::kDevice: return BNB_MEMORY_DEVICE;
        case MemoryKind::kManaged: return BNB_MEMORY_MANAGED;
    }
    return BNB_MEMORY_NONE;
}

// The placement of a parameter's states (ALGORITHMS.md §9): `states` for the state values or codes
// (managed memory when paged), `aux` for the absmax arrays and the clipping history (never paged).
struct StatePlacement {
    Placement states;
    Placement aux;
};

}  // namespace bnb
