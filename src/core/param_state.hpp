// The optimizer states of one parameter: fp32 values in 32-bit mode, or uint8 codes plus fp32 absmax in
// the 8-bit modes (ALGORITHMS.md §3), with the maps the codes were written with. The buffers live where
// the parameter does (host memory, CUDA device or managed memory: StateBuffer's placement).
#pragma once

#include <cstdint>
#include <memory>

#include "algorithm.hpp"
#include "bnb8.h"
#include "qmap.hpp"
#include "state_buffer.hpp"
#include "status.hpp"

namespace bnb {

struct ParamStates {
    bnb_state_mode mode = BNB_STATE_MODE_NONE;
    int num_states = 0;  // fixed at the first step (SGD without momentum has none)
    // Per public state i (state1, state2); a state with rows r holds r * n values or codes, row-major.
    StateBuffer<float> values[kMaxStates];   // 32-bit mode
    StateBuffer<uint8_t> codes[kMaxStates];  // 8-bit modes
    StateBuffer<float> absmax[kMaxStates];   // 8-bit: r * blocks (block-wise) or r (tensor-wise)
    std::shared_ptr<const QuantMap> maps[kMaxStates];
    StateBuffer<float> clip_history;         // percentile clipping: the last 100 squared norms

    int64_t bytes() const;
};

// The mode a parameter's states get at its first step (ALGORITHMS.md §8.1).
bnb_state_mode choose_state_mode(const Options& options, int64_t numel);

// Where the states of a parameter go: host memory for CPU parameters; for CUDA parameters device
// memory, or managed memory for the state values when `paged` and the parameter is large enough (§9).
StatePlacement state_placement(const bnb_tensor& param, bool paged);

// Fresh states (§3): fp32 zeros, or every code at its map's zero code and every absmax 0; a zeroed
// clipping history when `clipping`. `param_index` names the parameter in out-of-memory messages.
// `out` is replaced only on success.
Status create_states(const AlgorithmTraits& algorithm, bnb_state_mode mode, int num_states, bool clipping,
                     int64_t numel, int64_t param_index, ParamStates* out,
                     const StatePlacement& where = StatePlacement{});

// Moves every buffer of `states` to `where` (a copy, then the old buffers are freed); on failure
// `states` is unchanged.
Status place_states(const StatePlacement& where, ParamStates* states);

// `states` itself when its buffers are in host memory; otherwise a host copy made in `scratch`.
Status host_readable(const ParamStates& states, ParamStates* scratch, const ParamStates** out);

// Writes the fp32 values (dequantized in 8-bit modes) of public state `state` (0-based) into dst, which
// holds rows * numel floats. Zeros before the states exist. `states` must be in host memory
// (host_readable).
void read_state_values(const AlgorithmTraits& algorithm, const ParamStates& states, int state,
                       int64_t numel, float* dst);

}  // namespace bnb
