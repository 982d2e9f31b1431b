// extern "C" shims of the CUDA section of bnb8.h. They exist in every build, so the ABI does not depend
// on it: without the CUDA backend the CUDA-only ones return BNB_ERR_UNSUPPORTED, while
// bnb_optimizer_synchronize() and bnb_optimizer_state_location() also serve CPU parameters.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "bnb8.h"
#include "boundary.hpp"
#include "core/backend.hpp"
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

Status check_cuda_build(const char* instead) {
    BNB_RETURN_IF(!bnb::device_backend().compiled_in(), BNB_ERR_UNSUPPORTED, "this build of bnb8 has no CUDA backend%s%s",
                  instead[0] != '\0' ? "; " : "", instead);
    return Status::ok_status();
}

// Where the state values or codes of `states` are now, over all their buffers.
Status current_device(const bnb::ParamStates& states, int32_t* out) {
    bool first = true;
    *out = BNB_DEVICE_UNKNOWN;
    for (int s = 0; s < bnb::kMaxStates; ++s) {
        const bnb::StateBuffer<float>& values = states.values[s];
        const bnb::StateBuffer<uint8_t>& codes = states.codes[s];
        const bool has_values = values.size() > 0;
        if (!has_values && codes.size() == 0) continue;
        const bnb::Placement& where = has_values ? values.placement() : codes.placement();
        int32_t here = where.kind == bnb::MemoryKind::kHost ? BNB_DEVICE_CPU : where.device;
        if (where.kind == bnb::MemoryKind::kManaged) {
            const void* data = has_values ? static_cast<const void*>(values.data()) : codes.data();
            const int64_t bytes = has_values ? values.bytes() : codes.bytes();
            BNB_FORWARD(bnb::device_backend().last_prefetch_location(data, static_cast<size_t>(bytes), where.device,
                                                                     &here));
        }
        *out = first || here == *out ? here : BNB_DEVICE_UNKNOWN;
        first = false;
    }
    return Status::ok_status();
}

int32_t memory_of(const bnb::ParamStates& states, bool aux) {
    for (int s = 0; s < bnb::kMaxStates; ++s) {
        if (!aux && states.values[s].size() > 0) return bnb::public_memory_kind(states.values[s].placement());
        if (!aux && states.codes[s].size() > 0) return bnb::public_memory_kind(states.codes[s].placement());
        if (aux && states.absmax[s].size() > 0) return bnb::public_memory_kind(states.absmax[s].placement());
    }
    if (aux && states.clip_history.size() > 0) return bnb::public_memory_kind(states.clip_history.placement());
    return BNB_MEMORY_NONE;
}

}  // namespace

extern "C" bnb_status bnb_cuda_device_count(int32_t* out_count) {
    return guarded(__func__, [&]() -> Status {
        BNB_RETURN_IF(out_count == nullptr, BNB_ERR_INVALID_ARGUMENT, "out_count is NULL");
        BNB_FORWARD(check_cuda_build(""));
        int32_t count = 0;
        BNB_FORWARD(bnb::device_backend().device_count(&count));
        *out_count = count;
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_step_on_stream(bnb_optimizer* optimizer, void* cuda_stream) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(check_cuda_build("use bnb_step()"));
        return optimizer->impl.step_on_stream(cuda_stream);
    });
}

extern "C" bnb_status bnb_optimizer_synchronize(bnb_optimizer* optimizer) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        return optimizer->impl.settle();
    });
}

extern "C" bnb_status bnb_optimizer_set_amp_hooks(bnb_optimizer* optimizer, const float* grad_scale,
                                                  const float* found_inf) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(check_cuda_build(""));
        bnb::DeviceSteps* steps = optimizer->impl.device_steps();
        if (steps == nullptr && grad_scale == nullptr && found_inf == nullptr) return Status::ok_status();
        BNB_RETURN_IF(steps == nullptr, BNB_ERR_INVALID_STATE,
                      "no CUDA parameter is registered, so the hooks' device is unknown; register the CUDA "
                      "parameters first");
        return steps->set_amp_hooks(grad_scale, found_inf);
    });
}

extern "C" bnb_status bnb_optimizer_state_location(bnb_optimizer* optimizer, int64_t index, bnb_state_location* out) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_RETURN_IF(out == nullptr, BNB_ERR_INVALID_ARGUMENT, "out is NULL");
        const size_t min_size = offsetof(bnb_state_location, device) + sizeof(int32_t);
        BNB_RETURN_IF(out->struct_size < min_size, BNB_ERR_VERSION,
                      "out->struct_size = %zu is below the smallest bnb_state_location (%zu bytes)", out->struct_size,
                      min_size);
        const int64_t count = optimizer->impl.param_count();
        BNB_RETURN_IF(index < 0 || index >= count, BNB_ERR_INVALID_ARGUMENT,
                      "index = %lld is not a registered parameter (%lld are registered)", static_cast<long long>(index),
                      static_cast<long long>(count));
        BNB_FORWARD(settled(optimizer));
        const bnb::ParamStates& states = optimizer->impl.param(index).states;
        bnb_state_location location;
        std::memset(&location, 0, sizeof location);
        location.struct_size = out->struct_size;
        location.memory = memory_of(states, false);
        location.aux_memory = memory_of(states, true);
        BNB_FORWARD(current_device(states, &location.device));
        for (int s = 0; s < bnb::kMaxStates; ++s) location.bytes += states.values[s].bytes() + states.codes[s].bytes();
        std::memcpy(out, &location, std::min(out->struct_size, sizeof location));
        return Status::ok_status();
    });
}

extern "C" bnb_status bnb_optimizer_page_out_states(bnb_optimizer* optimizer) {
    return guarded(__func__, [&]() -> Status {
        BNB_FORWARD(check_handle(optimizer));
        BNB_FORWARD(check_cuda_build(""));
        bnb::DeviceSteps* steps = optimizer->impl.device_steps();
        if (steps == nullptr) return Status::ok_status();
        return steps->page_out(optimizer->impl.device_params(), optimizer->impl.config().cuda_stream);
    });
}
