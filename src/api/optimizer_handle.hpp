// The definition behind the opaque bnb_optimizer handle of bnb8.h, shared by the API translation units.
#pragma once

#include "bnb8.h"
#include "core/optimizer.hpp"

struct bnb_optimizer {
    explicit bnb_optimizer(const bnb::OptimizerConfig& config) : impl(config) {}
    bnb::Optimizer impl;
};
