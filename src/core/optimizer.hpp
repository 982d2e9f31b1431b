// The optimizer behind the opaque bnb_optimizer handle: configuration, parameter groups, registered
// parameters with their overrides and states, and the step. Every method validates first and changes
// nothing when it returns an error.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "algorithm.hpp"
#include "backend.hpp"
#include "bnb8.h"
#include "config.hpp"
#include "overrides.hpp"
#include "param_state.hpp"
#include "status.hpp"

namespace bnb {

struct ParamEntry {
    bnb_tensor param{};
    bnb_tensor grad{};
    bool has_grad = false;
    int64_t group = 0;
    int64_t step = 0;  // the parameter's own counter t (ALGORITHMS.md §5.5)
    ParamOverrides overrides;
    ParamStates states;
    // What the last step measured, for introspection.
    double last_gradient_scale = 1.0;
    double last_trust_ratio = 1.0;
    double last_update_sq_norm = 0.0;
};

// A parameter's state as read from a checkpoint, ready to be installed.
struct LoadedParam {
    int64_t step = 0;
    ParamOverrides overrides;
    ParamStates states;
};

struct StepReport {
    int64_t nonfinite_count = 0;
    int64_t params_stepped = 0;
    bool skipped = false;
};

class Optimizer {
public:
    explicit Optimizer(const OptimizerConfig& config);
    ~Optimizer();
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    const OptimizerConfig& config() const { return config_; }
    const AlgorithmTraits& algorithm() const { return *config_.algorithm; }

    Status add_group(int64_t* out_group);
    int64_t group_count() const { return static_cast<int64_t>(groups_.size()); }
    Status set_hparam(int64_t group, int32_t hparam, double value);
    Status get_hparam(int64_t group, int32_t hparam, double* out) const;
    const Hparams& group_hparams(int64_t group) const { return groups_[static_cast<size_t>(group)]; }

    Status add_param(int64_t group, const bnb_tensor* param, const bnb_tensor* grad, int64_t* out_index);
    Status bind_param(int64_t index, const bnb_tensor* param, const bnb_tensor* grad);
    int64_t param_count() const { return static_cast<int64_t>(params_.size()); }
    const ParamEntry& param(int64_t index) const { return params_[static_cast<size_t>(index)]; }
    Status param_info(int64_t index, bnb_param_info* out) const;
    int64_t state_bytes() const;
    Status copy_state(int64_t index, int32_t state, float* dst, int64_t dst_count) const;
    Status copy_clip_history(int64_t index, float* dst, int64_t dst_count) const;

    Status state_view(int64_t index, int32_t state, bnb_state_view* out);
    Status import_param_state(int64_t index, const bnb_param_state* state);

    Status set_param_override(int64_t index, int32_t key, double value);
    Status clear_param_override(int64_t index, int32_t key);
    Status get_param_setting(int64_t index, int32_t key, double* out_value, int32_t* out_is_override) const;

    // The settings a parameter steps with: its overrides over its group's and the config's values.
    Hparams effective_hparams_of(const ParamEntry& entry) const;
    Options effective_options_of(const ParamEntry& entry) const;
    // Checks a parameter's would-be settings: ranges, combinations, and that nothing which shaped its
    // existing states changes. `index` names the parameter in messages.
    Status check_param_settings(const ParamEntry& entry, int64_t index, const Hparams& h, const Options& o) const;

    Status step();
    // The step with CUDA work on `cuda_stream` (a cudaStream_t) instead of the config's stream.
    Status step_on_stream(void* cuda_stream);
    // The report of the last step, the device's part included (call settle() first).
    StepReport last_step() const;

    // CUDA parameters (src/cuda/README.md). settle() waits for the device work enqueued so far and brings
    // what the device decided or measured (step counters, reports) into the parameter entries; every
    // entry point that reads them calls it first. Without CUDA parameters it does nothing.
    Status settle();
    // The device side: nullptr until a device parameter is registered.
    DeviceSteps* device_steps() { return device_.get(); }
    // Every device parameter with its effective settings, in registration order.
    std::vector<DeviceParam> device_params();

    // Replaces every group's hyper-parameters and every parameter's step counter, overrides and states.
    // The caller (the checkpoint loader) has validated everything; this cannot fail.
    void install_state(std::vector<Hparams> groups, std::vector<LoadedParam> params) noexcept;
    // The same for one parameter (its overrides are kept).
    void install_param_state(int64_t index, LoadedParam param) noexcept;

private:
    Status check_group(int64_t group) const;
    Status check_index(int64_t index) const;
    Status check_param_tensors(const bnb_tensor* param, const bnb_tensor* grad) const;
    // With a grad: param and grad share no byte with each other, nor param with the param or grad of
    // any other entry that has a grad, nor grad with such an entry's param (buffer_overlap.hpp). A
    // parameter without a grad is never touched by a step. self: the entry being rebound, or -1.
    Status check_no_overlap(const bnb_tensor* param, const bnb_tensor* grad, int64_t self) const;
    Status check_matches_registration(const ParamEntry& entry, const bnb_tensor* param,
                                      const bnb_tensor* grad) const;
    Status update_override(int64_t index, int32_t key, const double* value);
    Status create_first_step_states();
    static void adopt_states(ParamStates& current, ParamStates&& fresh) noexcept;
    // §5.1 step 3, first half, for a CPU parameter with a gradient: clipping scale and scalars into `out`;
    // the host backend's plan then updates all of them at once (HostStepPlan::run).
    void prepare_cpu_step(ParamEntry& entry, HostParamStep* out);

    OptimizerConfig config_;
    std::vector<Hparams> groups_;
    std::vector<ParamEntry> params_;
    StepReport last_step_;                       // the host's part of the last step's report
    std::unique_ptr<DeviceSteps> device_;        // steps of the device parameters, all on one device
    bool last_step_on_device_ = false;           // the last step enqueued device work
    StepReport device_report_;                   // the device's part, as of the last settle()
};

}  // namespace bnb
