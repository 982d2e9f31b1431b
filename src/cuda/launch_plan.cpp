#include "launch_plan.hpp"

#include <cstring>

#include "device_steps.hpp"

namespace bnb {
namespace cuda {
namespace {

int dtype_bytes(bnb_dtype dtype) { return dtype == BNB_DTYPE_F32 ? 4 : 2; }

bool aligned(const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// The pool index of `map`, appending it when it is not there yet.
int32_t map_index(const QuantMap* map, std::vector<const QuantMap*>* pool) {
    for (size_t i = 0; i < pool->size(); ++i) {
        if ((*pool)[i] == map) return static_cast<int32_t>(i);
    }
    pool->push_back(map);
    return static_cast<int32_t>(pool->size() - 1);
}

// The table row of one parameter; offsets are filled by the caller.
DeviceTensor tensor_row(const AlgorithmTraits& algorithm, const DeviceParam& p, std::vector<const QuantMap*>* pool) {
    DeviceTensor t;
    std::memset(&t, 0, sizeof t);  // padding too: tables are compared bytewise
    const ParamEntry& entry = *p.entry;
    const ParamStates& states = entry.states;
    const int64_t n = entry.param.numel;
    const uintptr_t vector_bytes = 4u * static_cast<uintptr_t>(dtype_bytes(static_cast<bnb_dtype>(entry.param.dtype)));
    t.param = entry.param.data;
    t.grad = entry.grad.data;
    t.numel = n;
    t.clip_history = states.clip_history.size() > 0 ? const_cast<float*>(states.clip_history.data()) : nullptr;
    t.param_index = static_cast<int32_t>(p.index);
    t.mode = states.num_states > 0 ? states.mode : BNB_STATE_MODE_32BIT;
    bool vector_ok = aligned(t.param, vector_bytes) && aligned(t.grad, vector_bytes);
    const int64_t per_row = states.mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? num_blocks(n) : 1;
    int slot = 0;
    for (int s = 0; s < states.num_states; ++s) {
        for (int64_t r = 0; r < algorithm.rows[s] && slot < kMaxSlots; ++r, ++slot) {
            DeviceSlot& d = t.slot[slot];
            if (states.mode == BNB_STATE_MODE_32BIT) {
                d.values = const_cast<float*>(states.values[s].data()) + r * n;
                vector_ok = vector_ok && aligned(d.values, 16);
            } else {
                d.codes = const_cast<uint8_t*>(states.codes[s].data()) + r * n;
                d.absmax = const_cast<float*>(states.absmax[s].data()) + r * per_row;
                d.map = map_index(states.maps[s].get(), pool);
                vector_ok = vector_ok && aligned(d.codes, 4);
            }
        }
    }
    t.vector_ok = vector_ok ? 1 : 0;
    return t;
}

}  // namespace

RuleId rule_for(const AlgorithmTraits& algorithm, bool nesterov, int num_states) {
    return rule_id_for(algorithm.id, num_states > 0, nesterov);
}

int64_t LaunchPlan::table_bytes() const {
    int64_t total = 0;
    for (const GroupPlan& g : groups) total += static_cast<int64_t>(g.tensors.size() * sizeof(DeviceTensor));
    return total;
}

Status build_launch_plan(const AlgorithmTraits& algorithm, bool nesterov, const std::vector<DeviceParam>& params,
                         LaunchPlan* out) {
    LaunchPlan plan;
    plan.maps.push_back(QuantMap::builtin(BNB_QMAP_SIGNED).get());
    plan.maps.push_back(QuantMap::builtin(BNB_QMAP_UNSIGNED).get());
    for (const DeviceParam& p : params) {
        const ParamEntry& entry = *p.entry;
        if (!entry.has_grad) continue;
        BNB_RETURN_IF(entry.states.mode == BNB_STATE_MODE_NONE, BNB_ERR_INTERNAL,
                      "parameter %lld steps on the device without states", static_cast<long long>(p.index));
        const RuleId rule = rule_for(algorithm, nesterov, entry.states.num_states);
        const bnb_dtype dtype = static_cast<bnb_dtype>(entry.param.dtype);
        GroupPlan* group = nullptr;
        for (GroupPlan& g : plan.groups) {
            if (g.rule == rule && g.dtype == dtype) group = &g;
        }
        if (group == nullptr) {
            plan.groups.push_back(GroupPlan{rule, dtype, {}, 0, 0, false, false, false});
            group = &plan.groups.back();
        }
        DeviceTensor row = tensor_row(algorithm, p, &plan.maps);
        const int64_t blocks = num_blocks(row.numel);
        row.block_begin = group->total_blocks;
        row.run_begin = group->total_runs;
        group->total_blocks += blocks;
        group->total_runs += runs_of(blocks);
        group->has_8bit = group->has_8bit || (row.mode != BNB_STATE_MODE_32BIT && entry.states.num_states > 0);
        group->has_tensorwise =
            group->has_tensorwise || (row.mode == BNB_STATE_MODE_8BIT_TENSORWISE && entry.states.num_states > 0);
        group->has_clipping = group->has_clipping || row.clip_history != nullptr;
        group->tensors.push_back(row);
    }
    *out = std::move(plan);
    return Status::ok_status();
}

bool same_tables(const LaunchPlan& a, const LaunchPlan& b) {
    if (a.groups.size() != b.groups.size() || a.maps != b.maps) return false;
    for (size_t i = 0; i < a.groups.size(); ++i) {
        const GroupPlan& x = a.groups[i];
        const GroupPlan& y = b.groups[i];
        if (x.rule != y.rule || x.dtype != y.dtype || x.tensors.size() != y.tensors.size()) return false;
        if (!x.tensors.empty() &&
            std::memcmp(x.tensors.data(), y.tensors.data(), x.tensors.size() * sizeof(DeviceTensor)) != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace cuda
}  // namespace bnb
