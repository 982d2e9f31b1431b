// bnb8 checkpoints, format v1: a safetensors file whose tensors are the optimizer's states and maps and
// whose metadata records everything needed to resume bit for bit (FORMAT.md beside this file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/optimizer.hpp"
#include "core/status.hpp"
#include "safetensors.hpp"

namespace bnb {

constexpr int kFormatVersionMajor = 1;
constexpr int kFormatVersionMinor = 0;
constexpr const char* kFormatName = "bnb8.optimizer-state";

// A checkpoint ready to be written: the file's plan, whose tensors view the optimizer's host states
// and the host copies of states that live in CUDA memory, which the plan owns.
struct CheckpointPlan {
    SafetensorsPlan file;
    std::vector<std::unique_ptr<ParamStates>> host_copies;
};

// Describes the checkpoint of `optimizer` (metadata, checksums, tensor views into its states). The plan
// references the optimizer's host buffers: write it before the optimizer changes. States in CUDA memory
// are copied to the host (the device must be idle: the API settles it first).
Status plan_checkpoint(const Optimizer& optimizer, CheckpointPlan* out);

// Validates a whole checkpoint against `optimizer` and, only if everything is valid and the new states
// could be allocated, replaces its hyper-parameters, step counters and states.
Status load_checkpoint(Optimizer& optimizer, const uint8_t* data, size_t size);

}  // namespace bnb
