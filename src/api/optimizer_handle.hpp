// The definition behind the opaque bnb_optimizer handle of bnb8.h, shared by the API translation units.
#pragma once

#include "bnb8.h"
#include "core/optimizer.hpp"

struct bnb_optimizer {
    explicit bnb_optimizer(const bnb::OptimizerConfig& config) : impl(config) {}
    bnb::Optimizer impl;
};

namespace bnb {
namespace api {

// Waits for the optimizer's CUDA work and brings what the device computed into the parameter entries
// (Optimizer::settle); every entry point that reads those calls it first. Entry points with a const
// handle settle it too: handles are created non-const by bnb_optimizer_create(), and settling updates
// host copies of device results, not the optimizer's observable state.
inline Status settled(const bnb_optimizer* optimizer) {
    return const_cast<bnb_optimizer*>(optimizer)->impl.settle();
}

}  // namespace api
}  // namespace bnb
