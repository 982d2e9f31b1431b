#include "optimizer.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "backend.hpp"
#include "buffer_overlap.hpp"
#include "clipping.hpp"
#include "fp_env.hpp"
#include "names.hpp"
#include "state_import.hpp"
#include "step_scalars.hpp"
#include "tensor.hpp"

namespace bnb {
namespace {

std::string param_owner(int64_t index) { return "parameter " + std::to_string(index) + ": "; }

}  // namespace

Optimizer::Optimizer(const OptimizerConfig& config) : config_(config), groups_(1, config.hparams) {}

// device_ goes first: it waits for the device before the states it steps are freed.
Optimizer::~Optimizer() = default;

Status Optimizer::check_group(int64_t group) const {
    BNB_RETURN_IF(group < 0 || group >= group_count(), BNB_ERR_INVALID_ARGUMENT,
                  "group = %lld does not exist (the optimizer has %lld groups)", static_cast<long long>(group),
                  static_cast<long long>(group_count()));
    return Status::ok_status();
}

Status Optimizer::check_index(int64_t index) const {
    BNB_RETURN_IF(index < 0 || index >= param_count(), BNB_ERR_INVALID_ARGUMENT,
                  "index = %lld is not a registered parameter (%lld are registered)", static_cast<long long>(index),
                  static_cast<long long>(param_count()));
    return Status::ok_status();
}

Hparams Optimizer::effective_hparams_of(const ParamEntry& entry) const {
    return effective_hparams(group_hparams(entry.group), entry.overrides);
}

Options Optimizer::effective_options_of(const ParamEntry& entry) const {
    return effective_options(config_.options, entry.overrides);
}

Status Optimizer::check_param_settings(const ParamEntry& entry, int64_t index, const Hparams& h,
                                       const Options& o) const {
    const std::string owner = param_owner(index);
    BNB_FORWARD(check_hparams(algorithm(), h, config_.nesterov, owner.c_str()));
    if (entry.states.mode == BNB_STATE_MODE_NONE) return Status::ok_status();
    BNB_RETURN_IF(algorithm().states_for(h) != entry.states.num_states, BNB_ERR_INVALID_STATE,
                  "%smomentum = %s would %s its momentum buffer after its first step", owner.c_str(),
                  format_double(h.momentum).c_str(), entry.states.num_states > 0 ? "drop" : "need");
    const Options current = effective_options_of(entry);
    int count = 0;
    const OptionField* fields = option_fields(&count);
    for (int i = 0; i < count; ++i) {
        if (!fields[i].shapes_state) continue;
        const double before = get_option(fields[i], current), after = get_option(fields[i], o);
        BNB_RETURN_IF(before != after, BNB_ERR_INVALID_STATE,
                      "%s%s cannot change from %s to %s after the parameter's first step (it shaped its states)",
                      owner.c_str(), fields[i].name, format_double(before).c_str(), format_double(after).c_str());
    }
    return Status::ok_status();
}

Status Optimizer::add_group(int64_t* out_group) {
    BNB_RETURN_IF(out_group == nullptr, BNB_ERR_INVALID_ARGUMENT, "out_group is NULL");
    groups_.push_back(config_.hparams);
    *out_group = group_count() - 1;
    return Status::ok_status();
}

Status Optimizer::set_hparam(int64_t group, int32_t hparam, double value) {
    BNB_FORWARD(check_group(group));
    const AlgorithmHparam* entry = find_hparam(algorithm(), hparam);
    BNB_RETURN_IF(entry == nullptr, BNB_ERR_INVALID_ARGUMENT, "hparam = %d is not a hyper-parameter of %s", hparam,
                  algorithm().name);
    BNB_FORWARD(check_hparam(algorithm(), *entry, value, ""));
    Hparams candidate = group_hparams(group);
    candidate.*(find_hparam_field(hparam)->field) = value;
    BNB_FORWARD(check_hparams(algorithm(), candidate, config_.nesterov, ""));
    for (size_t i = 0; i < params_.size(); ++i) {
        const ParamEntry& p = params_[i];
        if (p.group != group) continue;
        BNB_FORWARD(check_param_settings(p, static_cast<int64_t>(i), effective_hparams(candidate, p.overrides),
                                         effective_options_of(p)));
    }
    groups_[static_cast<size_t>(group)] = candidate;
    return Status::ok_status();
}

Status Optimizer::get_hparam(int64_t group, int32_t hparam, double* out) const {
    BNB_RETURN_IF(out == nullptr, BNB_ERR_INVALID_ARGUMENT, "out_value is NULL");
    BNB_FORWARD(check_group(group));
    BNB_RETURN_IF(find_hparam(algorithm(), hparam) == nullptr, BNB_ERR_INVALID_ARGUMENT,
                  "hparam = %d is not a hyper-parameter of %s", hparam, algorithm().name);
    *out = group_hparams(group).*(find_hparam_field(hparam)->field);
    return Status::ok_status();
}

Status Optimizer::check_param_tensors(const bnb_tensor* param, const bnb_tensor* grad) const {
    BNB_FORWARD(check_tensor(param, "param"));
    if (grad == nullptr) return Status::ok_status();
    BNB_FORWARD(check_tensor(grad, "grad"));
    BNB_RETURN_IF(grad->dtype != param->dtype, BNB_ERR_INVALID_ARGUMENT,
                  "dtype mismatch: grad->dtype = %s, param->dtype = %s", dtype_name(grad->dtype),
                  dtype_name(param->dtype));
    BNB_RETURN_IF(grad->numel != param->numel, BNB_ERR_INVALID_ARGUMENT,
                  "grad->numel = %lld differs from param->numel = %lld", static_cast<long long>(grad->numel),
                  static_cast<long long>(param->numel));
    BNB_RETURN_IF(grad->device != param->device, BNB_ERR_INVALID_ARGUMENT,
                  "grad->device = %d differs from param->device = %d", grad->device, param->device);
    BNB_RETURN_IF(param->numel > 0 && grad->data == param->data, BNB_ERR_INVALID_ARGUMENT,
                  "grad->data = %p is the parameter's own buffer", grad->data);
    return Status::ok_status();
}

Status Optimizer::check_no_overlap(const bnb_tensor* param, const bnb_tensor* grad, int64_t self) const {
    // A step touches only the parameters that have a gradient (and those gradients); one without is
    // checked when a gradient is bound to it.
    if (grad == nullptr) return Status::ok_status();
    const ByteRange p = byte_range(*param);
    const ByteRange g = byte_range(*grad);
    BNB_RETURN_IF(overlaps(p, g), BNB_ERR_INVALID_ARGUMENT,
                  "grad->data = %p (%lld elements) overlaps param->data = %p (%lld elements), which the step writes",
                  grad->data, static_cast<long long>(grad->numel), param->data, static_cast<long long>(param->numel));
    for (size_t i = 0; i < params_.size(); ++i) {
        if (static_cast<int64_t>(i) == self) continue;  // bind_param replaces this entry's buffers
        const ParamEntry& other = params_[i];
        if (!other.has_grad) continue;
        const ByteRange op = byte_range(other.param);
        const ByteRange og = byte_range(other.grad);
        BNB_RETURN_IF(overlaps(p, op), BNB_ERR_INVALID_ARGUMENT,
                      "param->data = %p (%lld elements) overlaps parameter %zu's param->data = %p (%lld elements): "
                      "both would be written by one step",
                      param->data, static_cast<long long>(param->numel), i, other.param.data,
                      static_cast<long long>(other.param.numel));
        BNB_RETURN_IF(overlaps(p, og), BNB_ERR_INVALID_ARGUMENT,
                      "param->data = %p (%lld elements) overlaps parameter %zu's grad->data = %p (%lld elements), "
                      "which the step reads while writing the parameter",
                      param->data, static_cast<long long>(param->numel), i, other.grad.data,
                      static_cast<long long>(other.grad.numel));
        BNB_RETURN_IF(overlaps(g, op), BNB_ERR_INVALID_ARGUMENT,
                      "grad->data = %p (%lld elements) overlaps parameter %zu's param->data = %p (%lld elements), "
                      "which the step writes",
                      grad->data, static_cast<long long>(grad->numel), i, other.param.data,
                      static_cast<long long>(other.param.numel));
    }
    return Status::ok_status();
}

Status Optimizer::add_param(int64_t group, const bnb_tensor* param, const bnb_tensor* grad, int64_t* out_index) {
    BNB_FORWARD(check_group(group));
    BNB_FORWARD(check_param_tensors(param, grad));
    BNB_FORWARD(check_no_overlap(param, grad, -1));
    if (param->device != BNB_DEVICE_CPU) BNB_FORWARD(device_backend().attach(param->device, &device_));
    ParamEntry entry;
    entry.param = *param;
    entry.has_grad = grad != nullptr;
    if (grad != nullptr) entry.grad = *grad;
    entry.group = group;
    params_.push_back(std::move(entry));
    if (out_index != nullptr) *out_index = param_count() - 1;
    return Status::ok_status();
}

Status Optimizer::check_matches_registration(const ParamEntry& entry, const bnb_tensor* param,
                                             const bnb_tensor* grad) const {
    BNB_FORWARD(check_param_tensors(param, grad));
    BNB_RETURN_IF(param->numel != entry.param.numel, BNB_ERR_INVALID_ARGUMENT,
                  "param->numel = %lld differs from the registered %lld", static_cast<long long>(param->numel),
                  static_cast<long long>(entry.param.numel));
    BNB_RETURN_IF(param->dtype != entry.param.dtype, BNB_ERR_INVALID_ARGUMENT,
                  "dtype mismatch: param->dtype = %s, registered as %s", dtype_name(param->dtype),
                  dtype_name(entry.param.dtype));
    BNB_RETURN_IF(param->device != entry.param.device, BNB_ERR_INVALID_ARGUMENT,
                  "param->device = %d differs from the registered %d", param->device, entry.param.device);
    return Status::ok_status();
}

Status Optimizer::bind_param(int64_t index, const bnb_tensor* param, const bnb_tensor* grad) {
    BNB_FORWARD(check_index(index));
    ParamEntry& entry = params_[static_cast<size_t>(index)];
    BNB_FORWARD(check_matches_registration(entry, param, grad));
    BNB_FORWARD(check_no_overlap(param, grad, index));
    entry.param = *param;
    entry.has_grad = grad != nullptr;
    entry.grad = grad != nullptr ? *grad : bnb_tensor{};
    return Status::ok_status();
}

Status Optimizer::update_override(int64_t index, int32_t key, const double* value) {
    BNB_FORWARD(check_index(index));
    ParamEntry& entry = params_[static_cast<size_t>(index)];
    ParamOverrides candidate = entry.overrides;
    const std::string owner = param_owner(index);
    if (const HparamField* field = find_hparam_field(key)) {
        const AlgorithmHparam* spec = find_hparam(algorithm(), key);
        BNB_RETURN_IF(spec == nullptr, BNB_ERR_INVALID_ARGUMENT, "key = %d (%s) is not a hyper-parameter of %s", key,
                      field->name, algorithm().name);
        const uint32_t bit = 1u << hparam_bit(key);
        if (value != nullptr) {
            BNB_FORWARD(check_hparam(algorithm(), *spec, *value, owner.c_str()));
            candidate.hparams.*(field->field) = *value;
            candidate.hparams_set |= bit;
        } else {
            candidate.hparams_set &= ~bit;
        }
    } else if (const OptionField* option = find_option_field(key)) {
        const uint32_t bit = 1u << option_bit(key);
        if (value != nullptr) {
            BNB_FORWARD(set_option(*option, *value, owner.c_str(), &candidate.options));
            candidate.options_set |= bit;
        } else {
            candidate.options_set &= ~bit;
        }
    } else {
        return make_error(BNB_ERR_INVALID_ARGUMENT, "key = %d is neither a bnb_hparam nor a bnb_option", key);
    }
    BNB_FORWARD(check_param_settings(entry, index, effective_hparams(group_hparams(entry.group), candidate),
                                     effective_options(config_.options, candidate)));
    entry.overrides = candidate;
    return Status::ok_status();
}

Status Optimizer::set_param_override(int64_t index, int32_t key, double value) {
    return update_override(index, key, &value);
}

Status Optimizer::clear_param_override(int64_t index, int32_t key) { return update_override(index, key, nullptr); }

Status Optimizer::get_param_setting(int64_t index, int32_t key, double* out_value, int32_t* out_is_override) const {
    BNB_RETURN_IF(out_value == nullptr, BNB_ERR_INVALID_ARGUMENT, "out_value is NULL");
    BNB_FORWARD(check_index(index));
    const ParamEntry& entry = param(index);
    bool overridden = false;
    if (const HparamField* field = find_hparam_field(key)) {
        BNB_RETURN_IF(find_hparam(algorithm(), key) == nullptr, BNB_ERR_INVALID_ARGUMENT,
                      "key = %d (%s) is not a hyper-parameter of %s", key, field->name, algorithm().name);
        *out_value = effective_hparams_of(entry).*(field->field);
        overridden = (entry.overrides.hparams_set >> hparam_bit(key)) & 1u;
    } else if (const OptionField* option = find_option_field(key)) {
        *out_value = get_option(*option, effective_options_of(entry));
        overridden = (entry.overrides.options_set >> option_bit(key)) & 1u;
    } else {
        return make_error(BNB_ERR_INVALID_ARGUMENT, "key = %d is neither a bnb_hparam nor a bnb_option", key);
    }
    if (out_is_override != nullptr) *out_is_override = overridden ? 1 : 0;
    return Status::ok_status();
}

Status Optimizer::param_info(int64_t index, bnb_param_info* out) const {
    BNB_RETURN_IF(out == nullptr, BNB_ERR_INVALID_ARGUMENT, "out is NULL");
    BNB_FORWARD(check_index(index));
    const size_t min_size = offsetof(bnb_param_info, numel) + sizeof(int64_t);
    BNB_RETURN_IF(out->struct_size < min_size, BNB_ERR_VERSION,
                  "out->struct_size = %zu is below the smallest bnb_param_info (%zu bytes)", out->struct_size,
                  min_size);
    const ParamEntry& entry = params_[static_cast<size_t>(index)];
    bnb_param_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = out->struct_size;
    info.numel = entry.param.numel;
    info.dtype = entry.param.dtype;
    info.device = entry.param.device;
    info.group = entry.group;
    info.step = entry.step;
    info.state_mode = entry.states.mode;
    info.num_states = entry.states.mode != BNB_STATE_MODE_NONE ? entry.states.num_states
                                                                : algorithm().states_for(effective_hparams_of(entry));
    info.state_bytes = entry.states.bytes();
    info.gradient_scale = entry.last_gradient_scale;
    info.trust_ratio = entry.last_trust_ratio;
    info.update_sq_norm = entry.last_update_sq_norm;
    std::memcpy(out, &info, std::min(out->struct_size, sizeof info));
    return Status::ok_status();
}

int64_t Optimizer::state_bytes() const {
    int64_t total = 0;
    for (const ParamEntry& entry : params_) total += entry.states.bytes();
    return total;
}

Status Optimizer::copy_state(int64_t index, int32_t state, float* dst, int64_t dst_count) const {
    BNB_FORWARD(check_index(index));
    const ParamEntry& entry = params_[static_cast<size_t>(index)];
    const int states = entry.states.mode != BNB_STATE_MODE_NONE ? entry.states.num_states
                                                                 : algorithm().states_for(effective_hparams_of(entry));
    BNB_RETURN_IF(state < 1 || state > states, BNB_ERR_INVALID_ARGUMENT,
                  "state = %d is not a state of parameter %lld (%s, %d state%s)", state, static_cast<long long>(index),
                  algorithm().name, states, states == 1 ? "" : "s");
    const int64_t expected = algorithm().rows[state - 1] * entry.param.numel;
    BNB_RETURN_IF(dst_count != expected, BNB_ERR_INVALID_ARGUMENT,
                  "dst_count = %lld differs from the %lld values of state%d", static_cast<long long>(dst_count),
                  static_cast<long long>(expected), state);
    BNB_RETURN_IF(dst == nullptr && expected > 0, BNB_ERR_INVALID_ARGUMENT, "dst is NULL");
    ParamStates host_copy;
    const ParamStates* readable = nullptr;
    BNB_FORWARD(host_readable(entry.states, &host_copy, &readable));
    read_state_values(algorithm(), *readable, state - 1, entry.param.numel, dst);
    return Status::ok_status();
}

Status Optimizer::copy_clip_history(int64_t index, float* dst, int64_t dst_count) const {
    BNB_FORWARD(check_index(index));
    const StateBuffer<float>& history = params_[static_cast<size_t>(index)].states.clip_history;
    BNB_RETURN_IF(history.size() == 0, BNB_ERR_INVALID_STATE,
                  "parameter %lld keeps no clipping history (percentile clipping is off for it, or it has not "
                  "taken its first step)", static_cast<long long>(index));
    BNB_RETURN_IF(dst_count != history.size(), BNB_ERR_INVALID_ARGUMENT,
                  "dst_count = %lld differs from the %lld values of the clipping history",
                  static_cast<long long>(dst_count), static_cast<long long>(history.size()));
    BNB_RETURN_IF(dst == nullptr, BNB_ERR_INVALID_ARGUMENT, "dst is NULL");
    return history.read(0, history.size(), dst);
}

// Parameters taking their first step get their states here, before anything is updated: an allocation
// failure then leaves every parameter as it was.
Status Optimizer::create_first_step_states() {
    std::vector<std::pair<size_t, ParamStates>> created;
    for (size_t i = 0; i < params_.size(); ++i) {
        const ParamEntry& entry = params_[i];
        if (!entry.has_grad || entry.states.mode != BNB_STATE_MODE_NONE) continue;
        const Options options = effective_options_of(entry);
        ParamStates states;
        BNB_FORWARD(create_states(algorithm(), choose_state_mode(options, entry.param.numel),
                                  algorithm().states_for(effective_hparams_of(entry)),
                                  options.percentile_clipping < 100, entry.param.numel, static_cast<int64_t>(i),
                                  &states, state_placement(entry.param, config_.paged)));
        created.emplace_back(i, std::move(states));
    }
    for (auto& fresh : created) params_[fresh.first].states = std::move(fresh.second);
    return Status::ok_status();
}

// ALGORITHMS.md §5.1 step 3 for one parameter: clipping scale and scalars of its step t + 1.
void Optimizer::prepare_cpu_step(ParamEntry& entry, HostParamStep* out) {
    const int64_t t = entry.step + 1;
    const Hparams h = effective_hparams_of(entry);
    const Options o = effective_options_of(entry);
    const bnb_dtype dtype = static_cast<bnb_dtype>(entry.param.dtype);
    float gs = 1.0f;
    if (o.percentile_clipping < 100) {
        const float q = host_backend().gradient_sq_norm(entry.grad.data, dtype, entry.param.numel);
        gs = update_clipping(entry.states.clip_history.data(), t, q, o.percentile_clipping);
    }
    const StepScalars scalars = compute_step_scalars(algorithm(), h, t, gs);

    ParamStates& states = entry.states;
    const int64_t n = entry.param.numel;
    ParamStepView view{};
    view.param = entry.param.data;
    view.grad = entry.grad.data;
    view.numel = n;
    view.dtype = dtype;
    view.mode = states.mode;
    view.skip_zeros = o.skip_zeros;
    view.lr = h.lr;
    view.max_unorm = h.max_unorm;
    int slot = 0;
    for (int s = 0; s < states.num_states; ++s) {
        const int64_t per_row = states.mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? num_blocks(n) : 1;
        for (int r = 0; r < algorithm().rows[s]; ++r, ++slot) {
            if (states.mode == BNB_STATE_MODE_32BIT) {
                view.values[slot] = states.values[s].data() + r * n;
            } else {
                view.rows[slot] = QuantRow{states.codes[s].data() + r * n, states.absmax[s].data() + r * per_row,
                                           states.maps[s]->tables()};
            }
        }
    }
    out->rule = RuleChoice{&algorithm(), config_.nesterov, states.num_states > 0};
    out->view = view;
    out->scalars = scalars;
    entry.last_gradient_scale = gs;
}

Status Optimizer::step() { return step_on_stream(config_.cuda_stream); }

Status Optimizer::step_on_stream(void* cuda_stream) {
    BNB_RETURN_IF(params_.empty(), BNB_ERR_INVALID_STATE,
                  "no parameter is registered; add parameters with bnb_optimizer_add_param() first");
    // The counter t + 1 of this step must exist (and stay exact as a double): checked before anything
    // changes, so a parameter at the limit (a crafted state, or 2^53 steps) fails the step, not the heap.
    for (size_t i = 0; i < params_.size(); ++i) {
        BNB_RETURN_IF(params_[i].has_grad && params_[i].step >= BNB_MAX_STEP, BNB_ERR_INVALID_STATE,
                      "parameter %zu has taken %lld steps, BNB_MAX_STEP: its step counter cannot advance", i,
                      static_cast<long long>(params_[i].step));
    }
    FpEnvGuard fp_env;
    StepReport report;
    // Made before anything changes: no allocation fails later.
    const std::unique_ptr<HostStepPlan> host_plan = host_backend().plan(params_.size());
    bool host_work = false, device_work = false;
    for (const ParamEntry& entry : params_) {
        if (entry.has_grad) (entry.param.device == BNB_DEVICE_CPU ? host_work : device_work) = true;
    }
    if (config_.skip_step_on_nonfinite) {
        for (const ParamEntry& entry : params_) {
            if (!entry.has_grad || entry.param.device != BNB_DEVICE_CPU) continue;
            report.nonfinite_count +=
                host_backend().count_nonfinite(entry.grad.data, static_cast<bnb_dtype>(entry.grad.dtype),
                                               entry.grad.numel);
        }
    }
    bool skip = report.nonfinite_count > 0;  // §5.1 step 2: the whole step is a no-op
    if (device_work) {
        // The device decides on its own whether the step is skipped (AMP found-inf, non-finite gradients,
        // the host's count included); CPU parameters, if any, wait for that decision.
        BNB_FORWARD(create_first_step_states());
        DeviceStepRequest request{&algorithm(), config_.nesterov, config_.skip_step_on_nonfinite, cuda_stream,
                                  report.nonfinite_count, host_work, device_params()};
        bool device_skipped = false;
        last_step_on_device_ = false;
        BNB_FORWARD(device_->step(request, &device_skipped));
        last_step_on_device_ = true;
        skip = skip || device_skipped;
    } else {
        last_step_on_device_ = false;
    }
    if (skip) {
        report.skipped = true;
        last_step_ = report;
        return Status::ok_status();
    }
    if (!device_work) BNB_FORWARD(create_first_step_states());
    for (ParamEntry& entry : params_) {
        if (!(entry.has_grad && entry.param.device == BNB_DEVICE_CPU)) continue;
        HostParamStep planned;
        prepare_cpu_step(entry, &planned);
        host_plan->add(planned);
    }
    host_plan->run(config_.num_threads);
    size_t done = 0;
    for (ParamEntry& entry : params_) {
        if (!(entry.has_grad && entry.param.device == BNB_DEVICE_CPU)) continue;
        const StepOutcome& outcome = host_plan->outcome(done++);
        report.nonfinite_count += outcome.nonfinite;
        report.params_stepped += 1;
        entry.last_trust_ratio = outcome.trust_ratio;
        entry.last_update_sq_norm = outcome.update_sq_norm;
        entry.step += 1;
    }
    last_step_ = report;
    return Status::ok_status();
}

StepReport Optimizer::last_step() const {
    StepReport report = last_step_;
    if (last_step_on_device_) {
        report.nonfinite_count += device_report_.nonfinite_count;
        report.params_stepped += device_report_.params_stepped;
        report.skipped = report.skipped || device_report_.skipped;
    }
    return report;
}

Status Optimizer::settle() {
    if (!device_) return Status::ok_status();
    std::vector<DeviceParam> params = device_params();
    return device_->settle(params, &device_report_);
}

std::vector<DeviceParam> Optimizer::device_params() {
    std::vector<DeviceParam> out;
    for (size_t i = 0; i < params_.size(); ++i) {
        ParamEntry& entry = params_[i];
        if (entry.param.device == BNB_DEVICE_CPU) continue;
        out.push_back(DeviceParam{static_cast<int64_t>(i), &entry, effective_hparams_of(entry),
                                  effective_options_of(entry)});
    }
    return out;
}

// Note [stable state buffers]: bindings hold views of the state buffers (bnb_optimizer_state_view), so a
// load whose layout matches the current one copies into the existing buffers instead of replacing them.
void Optimizer::adopt_states(ParamStates& current, ParamStates&& fresh) noexcept {
    bool same_layout = current.mode == fresh.mode && current.num_states == fresh.num_states &&
                       current.clip_history.size() == fresh.clip_history.size();
    for (int s = 0; s < kMaxStates && same_layout; ++s) {
        same_layout = current.values[s].size() == fresh.values[s].size() &&
                      current.codes[s].size() == fresh.codes[s].size() &&
                      current.absmax[s].size() == fresh.absmax[s].size();
    }
    if (!same_layout) {
        current = std::move(fresh);
        return;
    }
    // Copies between CUDA buffers fail only with a broken CUDA context; the fresh buffers then replace the
    // current ones, which keeps the states right (only the views change).
    bool copied = current.clip_history.assign(fresh.clip_history).ok();
    for (int s = 0; s < kMaxStates && copied; ++s) {
        copied = current.values[s].assign(fresh.values[s]).ok() && current.codes[s].assign(fresh.codes[s]).ok() &&
                 current.absmax[s].assign(fresh.absmax[s]).ok();
    }
    if (!copied) {
        current = std::move(fresh);
        return;
    }
    for (int s = 0; s < kMaxStates; ++s) current.maps[s] = std::move(fresh.maps[s]);
}

void Optimizer::install_param_state(int64_t index, LoadedParam param) noexcept {
    ParamEntry& entry = params_[static_cast<size_t>(index)];
    entry.step = param.step;
    entry.overrides = param.overrides;
    adopt_states(entry.states, std::move(param.states));
    entry.last_gradient_scale = 1.0;
    entry.last_trust_ratio = 1.0;
    entry.last_update_sq_norm = 0.0;
}

void Optimizer::install_state(std::vector<Hparams> groups, std::vector<LoadedParam> params) noexcept {
    groups_ = std::move(groups);
    for (size_t i = 0; i < params.size(); ++i) install_param_state(static_cast<int64_t>(i), std::move(params[i]));
}

Status Optimizer::state_view(int64_t index, int32_t state, bnb_state_view* out) {
    BNB_RETURN_IF(out == nullptr, BNB_ERR_INVALID_ARGUMENT, "out is NULL");
    BNB_FORWARD(check_index(index));
    const size_t min_size = offsetof(bnb_state_view, data) + sizeof(void*);
    BNB_RETURN_IF(out->struct_size < min_size, BNB_ERR_VERSION,
                  "out->struct_size = %zu is below the smallest bnb_state_view (%zu bytes)", out->struct_size, min_size);
    ParamEntry& entry = params_[static_cast<size_t>(index)];
    ParamStates& states = entry.states;
    const int count = states.mode != BNB_STATE_MODE_NONE ? states.num_states
                                                          : algorithm().states_for(effective_hparams_of(entry));
    BNB_RETURN_IF(state < 1 || state > count, BNB_ERR_INVALID_ARGUMENT,
                  "state = %d is not a state of parameter %lld (%s, %d state%s)", state, static_cast<long long>(index),
                  algorithm().name, count, count == 1 ? "" : "s");
    const int s = state - 1;
    bnb_state_view view;
    std::memset(&view, 0, sizeof view);
    view.struct_size = out->struct_size;
    view.mode = states.mode;
    view.rows = algorithm().rows[s];
    view.numel = entry.param.numel;
    view.bits = states.mode == BNB_STATE_MODE_8BIT_BLOCKWISE || states.mode == BNB_STATE_MODE_8BIT_TENSORWISE ? 8 : 32;
    if (states.mode == BNB_STATE_MODE_32BIT) {
        view.data = states.values[s].data();
        view.memory = public_memory_kind(states.values[s].placement());
    } else if (view.bits == 8) {
        view.data = states.codes[s].data();
        view.absmax = states.absmax[s].data();
        view.absmax_per_row = states.absmax[s].size() / view.rows;
        view.qmap = states.maps[s]->values();
        view.memory = public_memory_kind(states.codes[s].placement());
    }
    std::memcpy(out, &view, std::min(out->struct_size, sizeof view));
    return Status::ok_status();
}

Status Optimizer::import_param_state(int64_t index, const bnb_param_state* state) {
    BNB_FORWARD(check_index(index));
    BNB_RETURN_IF(state == nullptr, BNB_ERR_INVALID_ARGUMENT, "state is NULL");
    BNB_RETURN_IF(state->struct_size < sizeof(bnb_param_state), BNB_ERR_VERSION,
                  "state->struct_size = %zu is below sizeof(bnb_param_state) = %zu", state->struct_size,
                  sizeof(bnb_param_state));
    BNB_RETURN_IF(state->mode < BNB_STATE_MODE_NONE || state->mode > BNB_STATE_MODE_8BIT_TENSORWISE,
                  BNB_ERR_INVALID_ARGUMENT, "state->mode = %d is not a bnb_state_mode", state->mode);
    BNB_RETURN_IF(state->num_states < 0 || state->num_states > algorithm().num_states, BNB_ERR_INVALID_ARGUMENT,
                  "state->num_states = %d: %s has at most %d", state->num_states, algorithm().name,
                  algorithm().num_states);
    const ParamEntry& entry = param(index);
    RawParamState raw;
    raw.step = state->step;
    raw.mode = static_cast<bnb_state_mode>(state->mode);
    raw.num_states = state->num_states;
    for (int s = 0; s < kMaxStates; ++s) {
        raw.data[s].memory = state->data[s];
        raw.absmax[s].memory = state->absmax[s];
        raw.qmap[s].memory = state->qmap[s];
    }
    raw.clip_history.memory = state->clip_history;
    LoadedParam loaded;
    BNB_FORWARD(build_param_state(*this, index, group_hparams(entry.group), entry.overrides, raw, "state", &loaded));
    install_param_state(index, std::move(loaded));
    return Status::ok_status();
}

}  // namespace bnb
