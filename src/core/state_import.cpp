#include "state_import.hpp"

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "clipping.hpp"
#include "names.hpp"
#include "qmap.hpp"
#include "rules/quant.hpp"

namespace bnb {
namespace {

// The built-in map when the values are identical to it (the common case: no extra memory), else a new
// validated map.
Status adopt_map(const float* values, bnb_qmap_kind kind, const std::string& what, std::shared_ptr<const QuantMap>* out) {
    const std::shared_ptr<const QuantMap>& builtin = QuantMap::builtin(kind);
    if (std::memcmp(values, builtin->values(), sizeof(float) * kMapSize) == 0) {
        *out = builtin;
        return Status::ok_status();
    }
    return QuantMap::create(values, kind, what.c_str(), out);
}

// Note [state value ranges]: what a stored value may be, whoever wrote it. fp32 state values are finite
// (an Inf or NaN state turns the parameter NaN at the next step; a run whose states went non-finite has
// diverged), and those kept in the unsigned map when 8-bit (second moments: Adam's v, RMSprop's and
// Adagrad's sums, AdEMAMix's nu) are also >= 0. absmax values are finite and >= 0. A clipping history
// holds squared norms: >= 0 and not NaN (+Inf is what a squared norm overflowing fp32 gives).
Status check_values(const float* values, int64_t count, bool non_negative, const std::string& what) {
    for (int64_t i = 0; i < count; ++i) {
        const float v = values[i];
        BNB_RETURN_IF(!std::isfinite(v) || (non_negative && v < 0.0f), BNB_ERR_BAD_FORMAT,
                      "%s[%lld] = %s is out of range (%s)", what.c_str(), static_cast<long long>(i),
                      format_double(v).c_str(), non_negative ? "finite and >= 0 expected" : "finite expected");
    }
    return Status::ok_status();
}

Status check_history(const float* values, const std::string& what) {
    for (int i = 0; i < kClipHistory; ++i) {
        BNB_RETURN_IF(!(values[i] >= 0.0f), BNB_ERR_BAD_FORMAT,
                      "%s[%d] = %s is out of range (a squared norm: >= 0, not NaN)", what.c_str(), i,
                      format_double(values[i]).c_str());
    }
    return Status::ok_status();
}

bool on_host(const StatePlacement& where) {
    return where.states.kind == MemoryKind::kHost && where.aux.kind == MemoryKind::kHost;
}

}  // namespace

Status RawTensor::copy_to(void* dst, size_t bytes) const {
    if (bytes == 0) return Status::ok_status();
    if (read) return read(dst, bytes);
    std::memcpy(dst, memory, bytes);
    return Status::ok_status();
}

Status build_param_state(const Optimizer& optimizer, int64_t index, const Hparams& group,
                         const ParamOverrides& overrides, const RawParamState& raw, const char* source,
                         LoadedParam* out) {
    const AlgorithmTraits& algorithm = optimizer.algorithm();
    const int64_t n = optimizer.param(index).param.numel;
    const Hparams h = effective_hparams(group, overrides);
    const Options o = effective_options(optimizer.config().options, overrides);
    const std::string owner = std::string(source) + ": ";
    const Status valid = check_hparams(algorithm, h, optimizer.config().nesterov, owner.c_str());
    BNB_RETURN_IF(!valid.ok(), BNB_ERR_BAD_FORMAT, "%s", valid.message().c_str());
    BNB_RETURN_IF(raw.step < 0 || raw.step > BNB_MAX_STEP, BNB_ERR_BAD_FORMAT,
                  "%s: step %lld is outside [0, BNB_MAX_STEP = %lld]", source, static_cast<long long>(raw.step),
                  static_cast<long long>(BNB_MAX_STEP));
    BNB_RETURN_IF((raw.mode == BNB_STATE_MODE_NONE) != (raw.step == 0), BNB_ERR_BAD_FORMAT,
                  "%s: step %lld is inconsistent with state mode '%s'", source, static_cast<long long>(raw.step),
                  state_mode_name(raw.mode));
    out->step = raw.step;
    out->overrides = overrides;
    if (raw.mode == BNB_STATE_MODE_NONE) return Status::ok_status();

    const bnb_state_mode expected = choose_state_mode(o, n);
    BNB_RETURN_IF(raw.mode != expected, BNB_ERR_INVALID_ARGUMENT,
                  "state codec mismatch: %s has %s states, this optimizer keeps %s states for parameter %lld", source,
                  state_mode_name(raw.mode), state_mode_name(expected), static_cast<long long>(index));
    const int states = algorithm.states_for(h);
    BNB_RETURN_IF(raw.num_states != states, BNB_ERR_INVALID_ARGUMENT,
                  "%s has %d states; %s keeps %d for parameter %lld with its settings", source, raw.num_states,
                  algorithm.name, states, static_cast<long long>(index));
    const bool clipping = o.percentile_clipping < 100;
    BNB_RETURN_IF(clipping != raw.clip_history.present(), BNB_ERR_INVALID_ARGUMENT,
                  "%s %s a clipping history, and percentile clipping is %s for parameter %lld", source,
                  raw.clip_history.present() ? "has" : "lacks", clipping ? "on" : "off", static_cast<long long>(index));

    // Host states are decoded straight into their final buffers; states for CUDA memory go through the
    // host once (the device copy is not host memory).
    const StatePlacement where = state_placement(optimizer.param(index).param, optimizer.config().paged);
    const bool direct = on_host(where);
    ParamStates& fresh = out->states;
    BNB_FORWARD(create_states(algorithm, raw.mode, states, clipping, n, index, &fresh,
                              direct ? where : StatePlacement{}));
    if (clipping) {
        BNB_FORWARD(raw.clip_history.copy_to(fresh.clip_history.data(), static_cast<size_t>(fresh.clip_history.bytes())));
        BNB_FORWARD(check_history(fresh.clip_history.data(), std::string(source) + " clip_history"));
    }
    for (int s = 0; s < states; ++s) {
        const std::string name = std::string(source) + " state" + std::to_string(s + 1);
        const bool non_negative = algorithm.state_map[s] == BNB_QMAP_UNSIGNED;
        if (raw.mode == BNB_STATE_MODE_32BIT) {
            BNB_RETURN_IF(!raw.data[s].present() && fresh.values[s].size() > 0, BNB_ERR_INVALID_ARGUMENT,
                          "%s: no values given", name.c_str());
            BNB_FORWARD(raw.data[s].copy_to(fresh.values[s].data(), static_cast<size_t>(fresh.values[s].bytes())));
            BNB_FORWARD(check_values(fresh.values[s].data(), fresh.values[s].size(), non_negative, name));
            continue;
        }
        BNB_RETURN_IF(!raw.qmap[s].present(), BNB_ERR_INVALID_ARGUMENT, "%s: no map given", name.c_str());
        BNB_RETURN_IF((!raw.data[s].present() && fresh.codes[s].size() > 0) ||
                          (!raw.absmax[s].present() && fresh.absmax[s].size() > 0),
                      BNB_ERR_INVALID_ARGUMENT, "%s: codes or absmax missing", name.c_str());
        float map[kMapSize];  // an aligned copy: file buffers need not be 4-byte aligned
        BNB_FORWARD(raw.qmap[s].copy_to(map, sizeof map));
        BNB_FORWARD(adopt_map(map, algorithm.state_map[s], name + " map", &fresh.maps[s]));
        BNB_FORWARD(raw.data[s].copy_to(fresh.codes[s].data(), static_cast<size_t>(fresh.codes[s].bytes())));
        BNB_FORWARD(raw.absmax[s].copy_to(fresh.absmax[s].data(), static_cast<size_t>(fresh.absmax[s].bytes())));
        BNB_FORWARD(check_values(fresh.absmax[s].data(), fresh.absmax[s].size(), true, name + " absmax"));
    }
    if (direct) return Status::ok_status();
    // Validated in host memory; a CUDA parameter's states then move to where its step reads them.
    return place_states(where, &fresh);
}

}  // namespace bnb
