#include "state_import.hpp"

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

void copy_bytes(void* dst, const void* src, int64_t bytes) {
    if (bytes > 0) std::memcpy(dst, src, static_cast<size_t>(bytes));
}

}  // namespace

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
    BNB_RETURN_IF(raw.step < 0 || (raw.mode == BNB_STATE_MODE_NONE) != (raw.step == 0), BNB_ERR_BAD_FORMAT,
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
    BNB_RETURN_IF(clipping != (raw.clip_history != nullptr), BNB_ERR_INVALID_ARGUMENT,
                  "%s %s a clipping history, and percentile clipping is %s for parameter %lld", source,
                  raw.clip_history != nullptr ? "has" : "lacks", clipping ? "on" : "off", static_cast<long long>(index));

    ParamStates& fresh = out->states;
    BNB_FORWARD(create_states(algorithm, raw.mode, states, clipping, n, index, &fresh));
    if (clipping) copy_bytes(fresh.clip_history.data(), raw.clip_history, fresh.clip_history.bytes());
    for (int s = 0; s < states; ++s) {
        const std::string name = std::string(source) + " state" + std::to_string(s + 1);
        if (raw.mode == BNB_STATE_MODE_32BIT) {
            BNB_RETURN_IF(raw.data[s] == nullptr && fresh.values[s].size() > 0, BNB_ERR_INVALID_ARGUMENT,
                          "%s: no values given", name.c_str());
            copy_bytes(fresh.values[s].data(), raw.data[s], fresh.values[s].bytes());
            continue;
        }
        BNB_RETURN_IF(raw.qmap[s] == nullptr, BNB_ERR_INVALID_ARGUMENT, "%s: no map given", name.c_str());
        float map[kMapSize];  // an aligned copy: file buffers need not be 4-byte aligned
        std::memcpy(map, raw.qmap[s], sizeof map);
        BNB_FORWARD(adopt_map(map, algorithm.state_map[s], name + " map", &fresh.maps[s]));
        BNB_RETURN_IF((raw.data[s] == nullptr && fresh.codes[s].size() > 0) ||
                          (raw.absmax[s] == nullptr && fresh.absmax[s].size() > 0),
                      BNB_ERR_INVALID_ARGUMENT, "%s: codes or absmax missing", name.c_str());
        copy_bytes(fresh.codes[s].data(), raw.data[s], fresh.codes[s].bytes());
        copy_bytes(fresh.absmax[s].data(), raw.absmax[s], fresh.absmax[s].bytes());
        const StateBuffer<float>& absmax = fresh.absmax[s];
        for (int64_t i = 0; i < absmax.size(); ++i) {
            BNB_RETURN_IF(!(absmax[i] >= 0.0f), BNB_ERR_BAD_FORMAT, "%s: absmax[%lld] = %s is not a valid absmax",
                          name.c_str(), static_cast<long long>(i), format_double(absmax[i]).c_str());
        }
    }
    // Validated in host memory; a CUDA parameter's states then move to where its step reads them.
    return place_states(state_placement(optimizer.param(index).param, optimizer.config().paged), &fresh);
}

}  // namespace bnb
