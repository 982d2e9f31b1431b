// Whether two caller buffers share bytes. A step writes every parameter buffer and reads every gradient
// buffer, in parallel across parameters and threads: a parameter buffer that overlaps another
// parameter's buffer or any gradient is a data race with results that vary run to run, so registration
// rejects it (docs/extreme-values.md). Gradients may overlap each other: they are only read. A
// parameter without a gradient is not touched, so it is compared only once a gradient is bound to it.
#pragma once

#include <cstdint>

#include "bnb8.h"

namespace bnb {

// The bytes [begin, end) a tensor's elements occupy; empty for numel == 0 (such tensors are never
// touched, so they overlap nothing).
struct ByteRange {
    uintptr_t begin = 0;
    uintptr_t end = 0;
};

// t must have passed check_tensor() (known dtype, numel * size representable).
ByteRange byte_range(const bnb_tensor& t);

bool overlaps(const ByteRange& a, const ByteRange& b);

}  // namespace bnb
