// Validation of a parameter's state coming from outside (a checkpoint file, or a caller through
// bnb_optimizer_import_param_state), shared by both so the rules are stated once: the mode and state
// count must be what the optimizer keeps for the parameter under its settings, maps must be valid,
// the step counter in [0, BNB_MAX_STEP], every value in its range (Note [state value ranges]), the clipping
// history present exactly when clipping is on. The states are decoded straight into the new buffers
// (no second copy on the host), so a load needs the new states' size and little more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "bnb8.h"
#include "optimizer.hpp"
#include "status.hpp"

namespace bnb {

// The bytes of one tensor: a caller's buffer, or a reader (a checkpoint's) that copies them into the
// destination and verifies the copy (its checksum), so what is validated is what gets installed even if
// the file changes during the load. Sizes follow from the parameter and the algorithm.
struct RawTensor {
    const void* memory = nullptr;
    std::function<Status(void* dst, size_t bytes)> read;

    bool present() const { return memory != nullptr || static_cast<bool>(read); }
    Status copy_to(void* dst, size_t bytes) const;
};

struct RawParamState {
    int64_t step = 0;
    bnb_state_mode mode = BNB_STATE_MODE_NONE;
    int num_states = 0;
    RawTensor data[kMaxStates];
    RawTensor absmax[kMaxStates];
    RawTensor qmap[kMaxStates];
    RawTensor clip_history;
};

// Builds the validated, copied state of parameter `index` as it would be with `group` hyper-parameters
// and `overrides` (a checkpoint brings its own). `mismatch` is the status for a state that does not fit
// the optimizer (BNB_ERR_INVALID_ARGUMENT); invalid values give BNB_ERR_BAD_FORMAT. `source` prefixes
// messages ("p3", "state").
Status build_param_state(const Optimizer& optimizer, int64_t index, const Hparams& group,
                         const ParamOverrides& overrides, const RawParamState& raw, const char* source,
                         LoadedParam* out);

}  // namespace bnb
