// The CPU backend as core sees it: its HostBackend (core/backend.hpp), over cpu_backend.hpp.
#pragma once

#include "core/backend.hpp"

namespace bnb {
namespace cpu {

const HostBackend& host_backend();

}  // namespace cpu
}  // namespace bnb
