// Validation of a parameter's state coming from outside (a checkpoint file, or a caller through
// bnb_optimizer_import_param_state), shared by both so the rules are stated once: the mode and state
// count must be what the optimizer keeps for the parameter under its settings, maps must be valid,
// absmax values non-negative, the clipping history present exactly when clipping is on.
#pragma once

#include <cstdint>

#include "bnb8.h"
#include "optimizer.hpp"
#include "status.hpp"

namespace bnb {

// Caller- or file-owned buffers; sizes follow from the parameter and the algorithm.
struct RawParamState {
    int64_t step = 0;
    bnb_state_mode mode = BNB_STATE_MODE_NONE;
    int num_states = 0;
    const void* data[kMaxStates] = {};
    const float* absmax[kMaxStates] = {};
    const float* qmap[kMaxStates] = {};
    const float* clip_history = nullptr;
};

// Builds the validated, copied state of parameter `index` as it would be with `group` hyper-parameters
// and `overrides` (a checkpoint brings its own). `mismatch` is the status for a state that does not fit
// the optimizer (BNB_ERR_INVALID_ARGUMENT); invalid values give BNB_ERR_BAD_FORMAT. `source` prefixes
// messages ("p3", "state").
Status build_param_state(const Optimizer& optimizer, int64_t index, const Hparams& group,
                         const ParamOverrides& overrides, const RawParamState& raw, const char* source,
                         LoadedParam* out);

}  // namespace bnb
