// How the CUDA parameters of an optimizer become kernel launches (host logic, compiled in every build
// and unit-tested without a GPU): parameters with a gradient are grouped by (rule, dtype), each group
// gets a tensor table with its block and run offsets, and the maps its 8-bit states use get indices in
// the device's map pool. The table depends only on registrations, bindings and states, so it is
// rebuilt every step on the host and uploaded only when it changed.
#pragma once

#include <cstdint>
#include <vector>

#include "core/algorithm.hpp"
#include "core/qmap.hpp"
#include "core/rule_id.hpp"
#include "core/status.hpp"
#include "block_ranges.hpp"
#include "device_types.hpp"

namespace bnb {

struct DeviceParam;  // core/backend.hpp

namespace cuda {

// The rule a parameter steps with (core/rule_id.hpp); one kernel instantiation per rule and dtype.
// `num_states` is the parameter's state count (SGD has none without momentum).
RuleId rule_for(const AlgorithmTraits& algorithm, bool nesterov, int num_states);

struct GroupPlan {
    RuleId rule;
    bnb_dtype dtype;
    std::vector<DeviceTensor> tensors;
    int64_t total_blocks = 0;
    int64_t total_runs = 0;
    bool has_8bit = false;        // stage the built-in maps in shared memory
    bool has_tensorwise = false;  // a pre-pass for the tensor absmax, and the commit afterwards
    bool has_clipping = false;    // percentile clipping's gradient norms
};

struct LaunchPlan {
    std::vector<GroupPlan> groups;
    std::vector<const QuantMap*> maps;  // the map pool: built-in signed, built-in unsigned, loaded maps

    // Bytes of every group's table, in group order (what the device holds).
    int64_t table_bytes() const;
};

// The plan for the parameters of `params` that have a gradient, in registration order within groups;
// groups in order of first appearance. Their states exist (the step created them).
Status build_launch_plan(const AlgorithmTraits& algorithm, bool nesterov, const std::vector<DeviceParam>& params,
                         LaunchPlan* out);

// Whether two plans give the device the same tables and map pool (pointers included).
bool same_tables(const LaunchPlan& a, const LaunchPlan& b);

}  // namespace cuda
}  // namespace bnb
