// The optimizer configuration: defaults per algorithm, the struct_size-tolerant copy of the caller's
// bnb_optimizer_config (fields past struct_size and "default" sentinels take the algorithm's defaults),
// and validation (ALGORITHMS.md §10.2): nothing is accepted and ignored.
#pragma once

#include <cstdint>

#include "algorithm.hpp"
#include "bnb8.h"
#include "status.hpp"

namespace bnb {

struct OptimizerConfig {
    const AlgorithmTraits* algorithm = nullptr;
    Hparams hparams;      // the initial hyper-parameters of every group
    Options options;      // the optimizer-wide options
    bool nesterov = false;
    bool skip_step_on_nonfinite = false;
    bool paged = false;  // CUDA managed memory for large states; the CPU backend has nothing to page
    int32_t num_threads = 0;       // CPU workers; 0: BNB8_NUM_THREADS or the hardware's count
    void* cuda_stream = nullptr;   // cudaStream_t of CUDA steps; nullptr: the legacy default stream
};

// Writes the algorithm's concrete defaults into every field and struct_size = sizeof. A learning rate
// without a default (SGD, LARS) is written as BNB_DEFAULT_F64: the caller must set it.
void fill_config_defaults(const AlgorithmTraits& algorithm, bnb_optimizer_config* out);

// Reads, completes and validates a caller's config. `out` is written only on success.
Status resolve_config(const bnb_optimizer_config* user, OptimizerConfig* out);

// Writes the first out->struct_size bytes of the public form of `config`.
Status export_config(const OptimizerConfig& config, bnb_optimizer_config* out);

}  // namespace bnb
