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

// Note [header bound]: a checkpoint's header is at most 64 KiB plus 4 KiB per parameter and per group
// (what bnb8 writes takes about 2.5 KiB for a parameter with every override set, 0.7 KiB for a group),
// and never above kMaxSafetensorsHeader. The loader rejects a longer header before allocating it, so a
// hostile length costs neither time nor memory; the writer refuses to write one.
constexpr uint64_t kHeaderBase = 64 * 1024;
constexpr uint64_t kHeaderPerEntry = 4 * 1024;
size_t max_checkpoint_header(int64_t params, int64_t groups);

// Validates a whole checkpoint against `optimizer` and, only if everything is valid and the new states
// could be allocated, replaces its hyper-parameters, step counters and states. Tensors are read from
// `source` straight into the new states (no copy of the file); what is checked (checksums, ranges) is
// the copy that is kept.
Status load_checkpoint(Optimizer& optimizer, const ByteSource& source);
Status load_checkpoint(Optimizer& optimizer, const uint8_t* data, size_t size);

}  // namespace bnb
