#include "optimizer.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "cpu/cpu_backend.hpp"
#include "cpu/fp_env.hpp"
#include "names.hpp"
#include "step_scalars.hpp"
#include "tensor.hpp"

namespace bnb {
Optimizer::Optimizer(const OptimizerConfig& config) : config_(config), groups_(1, config.hparams) {}

Status Optimizer::check_group(int64_t group) const {
    BNB_RETURN_IF(group < 0 || group >= group_count(), BNB_ERR_INVALID_ARGUMENT,
                  "group = %lld does not exist (the optimizer has %lld groups)", static_cast<long long>(group),
                  static_cast<long long>(group_count()));
    return Status::ok_status();
}

Status Optimizer::check_index(int64_t index) const {
    BNB_RETURN_IF(index < 0 || index >= param_count(), BNB_ERR_INVALID_ARGUMENT,
                  "index = %lld is not a registered parameter (%lld are registered)",
                  static_cast<long long>(index), static_cast<long long>(param_count()));
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
    const HparamSpec* spec = find_hparam(algorithm(), hparam);
    BNB_RETURN_IF(spec == nullptr, BNB_ERR_INVALID_ARGUMENT, "hparam = %d is not a hyper-parameter of %s",
                  hparam, algorithm().name);
    BNB_FORWARD(check_hparam(*spec, value, ""));
    groups_[static_cast<size_t>(group)].*(spec->field) = value;
    return Status::ok_status();
}

Status Optimizer::get_hparam(int64_t group, int32_t hparam, double* out) const {
    BNB_RETURN_IF(out == nullptr, BNB_ERR_INVALID_ARGUMENT, "out_value is NULL");
    BNB_FORWARD(check_group(group));
    const HparamSpec* spec = find_hparam(algorithm(), hparam);
    BNB_RETURN_IF(spec == nullptr, BNB_ERR_INVALID_ARGUMENT, "hparam = %d is not a hyper-parameter of %s",
                  hparam, algorithm().name);
    *out = groups_[static_cast<size_t>(group)].*(spec->field);
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

Status Optimizer::add_param(int64_t group, const bnb_tensor* param, const bnb_tensor* grad, int64_t* out_index) {
    BNB_FORWARD(check_group(group));
    BNB_FORWARD(check_param_tensors(param, grad));
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
    entry.param = *param;
    entry.has_grad = grad != nullptr;
    entry.grad = grad != nullptr ? *grad : bnb_tensor{};
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
    info.num_states = algorithm().num_states;
    info.state_bytes = entry.states.bytes();
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
    BNB_RETURN_IF(state < 1 || state > algorithm().num_states, BNB_ERR_INVALID_ARGUMENT,
                  "state = %d is not a state of %s (it has %d)", state, algorithm().name, algorithm().num_states);
    const ParamEntry& entry = params_[static_cast<size_t>(index)];
    const int64_t expected = algorithm().rows[state - 1] * entry.param.numel;
    BNB_RETURN_IF(dst_count != expected, BNB_ERR_INVALID_ARGUMENT,
                  "dst_count = %lld differs from the %lld values of state%d", static_cast<long long>(dst_count),
                  static_cast<long long>(expected), state);
    BNB_RETURN_IF(dst == nullptr && expected > 0, BNB_ERR_INVALID_ARGUMENT, "dst is NULL");
    read_state_values(algorithm(), entry.states, state - 1, entry.param.numel, dst);
    return Status::ok_status();
}

Status Optimizer::step() {
    BNB_RETURN_IF(params_.empty(), BNB_ERR_INVALID_STATE,
                  "no parameter is registered; add parameters with bnb_optimizer_add_param() first");
    // Phase 1 may fail (memory): create the states of parameters taking their first step aside.
    std::vector<std::pair<size_t, ParamStates>> created;
    for (size_t i = 0; i < params_.size(); ++i) {
        const ParamEntry& entry = params_[i];
        if (!entry.has_grad || entry.states.mode != BNB_STATE_MODE_NONE) continue;
        const bnb_state_mode mode = choose_state_mode(config_.optim_bits, config_.block_wise,
                                                      config_.min_8bit_size, entry.param.numel);
        ParamStates states;
        BNB_FORWARD(create_states(algorithm(), mode, entry.param.numel, static_cast<int64_t>(i), &states));
        created.emplace_back(i, std::move(states));
    }
    // Phase 2 cannot fail.
    for (auto& fresh : created) params_[fresh.first].states = std::move(fresh.second);
    cpu::FpEnvGuard fp_env;
    for (ParamEntry& entry : params_) {
        if (!entry.has_grad) continue;
        const int64_t t = entry.step + 1;
        const StepScalars scalars = compute_step_scalars(groups_[static_cast<size_t>(entry.group)], t, 1.0f);
        cpu::ParamStepView view{};
        view.param = entry.param.data;
        view.grad = entry.grad.data;
        view.numel = entry.param.numel;
        view.dtype = static_cast<bnb_dtype>(entry.param.dtype);
        view.mode = entry.states.mode;
        view.skip_zeros = false;
        int slot = 0;
        for (int s = 0; s < algorithm().num_states; ++s) {
            for (int r = 0; r < algorithm().rows[s]; ++r, ++slot) {
                if (entry.states.mode == BNB_STATE_MODE_32BIT) {
                    view.values[slot] = entry.states.values[s].data() + r * entry.param.numel;
                } else {
                    const int64_t per_row = entry.states.mode == BNB_STATE_MODE_8BIT_BLOCKWISE
                                                ? num_blocks(entry.param.numel)
                                                : 1;
                    view.rows[slot] = cpu::QuantRow{entry.states.codes[s].data() + r * entry.param.numel,
                                                    entry.states.absmax[s].data() + r * per_row,
                                                    entry.states.maps[s]->tables()};
                }
            }
        }
        cpu::step_param(algorithm(), view, scalars);
        entry.step = t;
    }
    return Status::ok_status();
}

void Optimizer::install_state(std::vector<Hparams> groups, std::vector<LoadedParam> params) noexcept {
    groups_ = std::move(groups);
    for (size_t i = 0; i < params.size(); ++i) {
        params_[i].step = params[i].step;
        params_[i].states = std::move(params[i].states);
    }
}

}  // namespace bnb
