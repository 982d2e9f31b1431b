// extern "C" shims for configuration, lifecycle, groups, hyper-parameters, parameters and the step.
// Each one checks its handle and output pointers, then forwards to bnb::Optimizer inside guarded().
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

#include "bnb8.h"
#include "boundary.hpp"
#include "core/config.hpp"
#include "core/optimizer.hpp"
#include "optimizer_handle.hpp"

using bnb::Status;
using bnb::api::guarded;
using bnb::api::settled;

namespace {

Status check_handle(const bnb_optimizer* optimizer) {
    BNB_RETURN_IF(optimizer == nullptr, BNB_ERR_INVALID_ARGUMENT, "optimizer is NULL");
    return Status::ok_status();
}

Status check_out(const void* out, const char* name) {
    BNB_RETURN_IF(out == nullptr, BNB_ERR_INVALID_ARGUMENT, "%s is NULL", name);
    return Status::ok_status();
}

}  // namespace

extern "C" bnb_status bnb_optimizer_config_init_sized(bnb_optimizer_config* config, size_t struct_size,
                                                      int32_t algorithm) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_out(config, "config"));
        BNB_RETURN_IF(struct_size < BNB_OPTIMIZER_CONFIG_MIN_SIZE, BNB_ERR_VERSION,
                      "struct_size = %zu is below the smallest supported config (%zu bytes)", struct_size,
                      static_cast<size_t>(BNB_OPTIMIZER_CONFIG_MIN_SIZE));
        const bnb::AlgorithmTraits* traits = bnb::find_algorithm(algorithm);
        BNB_RETURN_IF(traits == nullptr, BNB_ERR_INVALID_ARGUMENT, "algorithm = %d is not a known algorithm",
                      algorithm);
        bnb_optimizer_config defaults;
        bnb::fill_config_defaults(*traits, &defaults);
        defaults.struct_size = struct_size;
        // Never write past the caller's struct (an older header); zero what a newer header added.
        const size_t known = std::min(struct_size, sizeof defaults);
        std::memcpy(config, &defaults, known);
        if (struct_size > known) std::memset(reinterpret_cast<char*>(config) + known, 0, struct_size - known);
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_optimizer_create(const bnb_optimizer_config* config, bnb_optimizer** out) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_out(out, "out"));
        bnb::OptimizerConfig resolved;
        BNB_FORWARD(bnb::resolve_config(config, &resolved));
        *out = new bnb_optimizer(resolved);
        return Status::ok_status();
    });
}

extern "C" void bnb_optimizer_destroy(bnb_optimizer* optimizer) { delete optimizer; }

extern "C" bnb_status bnb_optimizer_get_config(const bnb_optimizer* optimizer, bnb_optimizer_config* out) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return bnb::export_config(optimizer->impl.config(), out);
    });
}

extern "C" bnb_status bnb_optimizer_add_group(bnb_optimizer* optimizer, int64_t* out_group) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.add_group(out_group);
    });
}

extern "C" bnb_status bnb_optimizer_group_count(const bnb_optimizer* optimizer, int64_t* out_count) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(check_out(out_count, "out_count"));
        *out_count = optimizer->impl.group_count();
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_optimizer_set_hparam(bnb_optimizer* optimizer, int64_t group, int32_t hparam,
                                               double value) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.set_hparam(group, hparam, value);
    });
}

extern "C" bnb_status bnb_optimizer_get_hparam(const bnb_optimizer* optimizer, int64_t group, int32_t hparam,
                                               double* out_value) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.get_hparam(group, hparam, out_value);
    });
}

extern "C" bnb_status bnb_hparam_get_bounds(int32_t algorithm, int32_t hparam, bnb_hparam_bounds* out) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_out(out, "out"));
        const bnb::AlgorithmTraits* traits = bnb::find_algorithm(algorithm);
        BNB_RETURN_IF(traits == nullptr, BNB_ERR_INVALID_ARGUMENT, "algorithm = %d is not a known algorithm",
                      algorithm);
        const bnb::AlgorithmHparam* entry = bnb::find_hparam(*traits, hparam);
        BNB_RETURN_IF(entry == nullptr, BNB_ERR_INVALID_ARGUMENT, "hparam = %d is not a hyper-parameter of %s",
                      hparam, traits->name);
        *out = entry->bounds;
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_optimizer_add_param(bnb_optimizer* optimizer, int64_t group, const bnb_tensor* param,
                                              const bnb_tensor* grad, int64_t* out_index) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.add_param(group, param, grad, out_index);
    });
}

extern "C" bnb_status bnb_optimizer_bind_param(bnb_optimizer* optimizer, int64_t index, const bnb_tensor* param,
                                               const bnb_tensor* grad) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.bind_param(index, param, grad);
    });
}

extern "C" bnb_status bnb_optimizer_param_count(const bnb_optimizer* optimizer, int64_t* out_count) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(check_out(out_count, "out_count"));
        *out_count = optimizer->impl.param_count();
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_optimizer_param_info(const bnb_optimizer* optimizer, int64_t index, bnb_param_info* out) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(settled(optimizer));
        return optimizer->impl.param_info(index, out);
    });
}

extern "C" bnb_status bnb_optimizer_state_bytes(const bnb_optimizer* optimizer, int64_t* out_bytes) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(check_out(out_bytes, "out_bytes"));
        *out_bytes = optimizer->impl.state_bytes();
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_optimizer_copy_state(const bnb_optimizer* optimizer, int64_t index, int32_t state,
                                               float* dst, int64_t dst_count) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(settled(optimizer));
        return optimizer->impl.copy_state(index, state, dst, dst_count);
    });
}

extern "C" bnb_status bnb_optimizer_copy_clip_history(const bnb_optimizer* optimizer, int64_t index, float* dst,
                                                      int64_t dst_count) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(settled(optimizer));
        return optimizer->impl.copy_clip_history(index, dst, dst_count);
    });
}

extern "C" bnb_status bnb_optimizer_state_view(bnb_optimizer* optimizer, int64_t index, int32_t state,
                                               bnb_state_view* out) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(settled(optimizer));
        return optimizer->impl.state_view(index, state, out);
    });
}

extern "C" bnb_status bnb_optimizer_import_param_state(bnb_optimizer* optimizer, int64_t index,
                                                       const bnb_param_state* state) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(settled(optimizer));
        return optimizer->impl.import_param_state(index, state);
    });
}

extern "C" bnb_status bnb_optimizer_set_param_override(bnb_optimizer* optimizer, int64_t index, int32_t key,
                                                       double value) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.set_param_override(index, key, value);
    });
}

extern "C" bnb_status bnb_optimizer_clear_param_override(bnb_optimizer* optimizer, int64_t index, int32_t key) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.clear_param_override(index, key);
    });
}

extern "C" bnb_status bnb_optimizer_get_param_setting(const bnb_optimizer* optimizer, int64_t index, int32_t key,
                                                      double* out_value, int32_t* out_is_override) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.get_param_setting(index, key, out_value, out_is_override);
    });
}

extern "C" bnb_status bnb_optimizer_last_step_info(const bnb_optimizer* optimizer, bnb_step_info* out) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(check_out(out, "out"));
        const size_t min_size = offsetof(bnb_step_info, nonfinite_count) + sizeof(int64_t);
        BNB_RETURN_IF(out->struct_size < min_size, BNB_ERR_VERSION,
                      "out->struct_size = %zu is below the smallest bnb_step_info (%zu bytes)", out->struct_size,
                      min_size);
        BNB_FORWARD(settled(optimizer));
        const bnb::StepReport report = optimizer->impl.last_step();
        bnb_step_info info;
        std::memset(&info, 0, sizeof info);
        info.struct_size = out->struct_size;
        info.nonfinite_count = report.nonfinite_count;
        info.params_stepped = report.params_stepped;
        info.skipped = report.skipped ? 1 : 0;
        std::memcpy(out, &info, std::min(out->struct_size, sizeof info));
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_step(bnb_optimizer* optimizer) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.step();
    });
}
