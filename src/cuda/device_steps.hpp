// The CUDA backend's side of DeviceSteps (core/backend.hpp): it steps the CUDA parameters (all on one
// device) with one kernel launch per (rule, dtype) group, keeps the device-side bookkeeping (tensor
// tables, step counters, reports), and brings results back to the parameter entries when the optimizer
// settles. Plain C++; without CUDA, attach_device() fails with BNB_ERR_UNSUPPORTED (no_cuda.cpp; never
// reached: CUDA tensors are rejected before).
#pragma once

#include <cstdint>
#include <memory>

#include "core/backend.hpp"
#include "core/optimizer.hpp"
#include "core/status.hpp"

namespace bnb {
namespace cuda {

// Creates the device steps for CUDA parameters on `device` on the first CUDA registration, and checks
// later ones against it (one device per optimizer).
Status attach_device(int32_t device, std::unique_ptr<DeviceSteps>* steps);

}  // namespace cuda
}  // namespace bnb
