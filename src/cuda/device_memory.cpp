#include "device_memory.hpp"

#include <cstdlib>
#include <string>

#include "cuda_check.hpp"

namespace bnb {
namespace cuda {
namespace {

// Why no device is visible, for messages: CUDA_VISIBLE_DEVICES is the usual culprit.
std::string visibility_note() {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    if (visible == nullptr) return "";
    return std::string(" (CUDA_VISIBLE_DEVICES = '") + visible + "')";
}

const char* kind_name(MemoryKind kind) { return kind == MemoryKind::kManaged ? "managed" : "device"; }

}  // namespace

bool compiled_in() { return true; }

Status device_count(int32_t* out) {
    int count = 0;
    const cudaError_t error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess) {
        (void)cudaGetLastError();
        return make_error(BNB_ERR_NO_CUDA_DEVICE, "no usable CUDA device: cudaGetDeviceCount failed with %s (%s)%s",
                          cudaGetErrorName(error), cudaGetErrorString(error), visibility_note().c_str());
    }
    BNB_RETURN_IF(count == 0, BNB_ERR_NO_CUDA_DEVICE, "no CUDA device is visible%s", visibility_note().c_str());
    *out = count;
    return Status::ok_status();
}

Status check_device_pointer(const void* data, int32_t ordinal, const char* name) {
    int32_t count = 0;
    const Status devices = device_count(&count);
    BNB_RETURN_IF(!devices.ok(), devices.code(), "%s->device = %d: %s", name, ordinal, devices.message().c_str());
    BNB_RETURN_IF(ordinal >= count, BNB_ERR_NO_CUDA_DEVICE, "%s->device = %d, but %d CUDA device%s visible%s", name,
                  ordinal, count, count == 1 ? " is" : "s are", visibility_note().c_str());
    if (data == nullptr) return Status::ok_status();
    cudaPointerAttributes attributes;
    const cudaError_t error = cudaPointerGetAttributes(&attributes, data);
    if (error != cudaSuccess) {
        (void)cudaGetLastError();
        return make_error(BNB_ERR_INVALID_ARGUMENT, "%s->data = %p: cudaPointerGetAttributes failed with %s", name,
                          data, cudaGetErrorName(error));
    }
    switch (attributes.type) {
        case cudaMemoryTypeManaged: return Status::ok_status();
        case cudaMemoryTypeDevice:
            BNB_RETURN_IF(attributes.device != ordinal, BNB_ERR_INVALID_ARGUMENT,
                          "%s->data = %p is memory of CUDA device %d, not of %s->device = %d", name, data,
                          attributes.device, name, ordinal);
            return Status::ok_status();
        case cudaMemoryTypeHost:
            return make_error(BNB_ERR_INVALID_ARGUMENT,
                              "%s->data = %p is page-locked host memory; %s->device = %d needs device memory", name,
                              data, name, ordinal);
        default:
            return make_error(BNB_ERR_INVALID_ARGUMENT, "%s->data = %p is host memory, not memory of CUDA device %d",
                              name, data, ordinal);
    }
}

bool supports_managed_memory(int32_t ordinal) {
    int value = 0;
    if (cudaDeviceGetAttribute(&value, cudaDevAttrManagedMemory, ordinal) != cudaSuccess) {
        (void)cudaGetLastError();
        return false;
    }
    return value != 0;
}

Status allocate(size_t bytes, const Placement& where, const char* what, void** out) {
    DeviceGuard guard;
    BNB_FORWARD(guard.enter(where.device));
    void* data = nullptr;
    const cudaError_t error = where.kind == MemoryKind::kManaged ? cudaMallocManaged(&data, bytes, cudaMemAttachGlobal)
                                                                 : cudaMalloc(&data, bytes);
    if (error != cudaSuccess) {
        (void)cudaGetLastError();
        return make_error(error == cudaErrorMemoryAllocation ? BNB_ERR_OUT_OF_MEMORY : BNB_ERR_CUDA,
                          "%s: could not allocate %zu bytes of %s memory on CUDA device %d: %s", what, bytes,
                          kind_name(where.kind), where.device, cudaGetErrorString(error));
    }
    *out = data;
    return Status::ok_status();
}

void release(void* data, const Placement& where) noexcept {
    DeviceGuard guard;
    if (!guard.enter(where.device).ok()) return;
    (void)cudaFree(data);
    (void)cudaGetLastError();
}

// The runtime's synchronous-looking calls run on the legacy default stream, which a caller's
// non-blocking stream does not wait for: each one here waits until it is done, so a step enqueued
// afterwards on any stream sees its result.
Status fill(void* data, uint8_t value, size_t bytes, const Placement& where) {
    DeviceGuard guard;
    BNB_FORWARD(guard.enter(where.device));
    BNB_CUDA_TRY(cudaMemset(data, value, bytes));
    BNB_CUDA_TRY(cudaStreamSynchronize(cudaStreamLegacy));
    return Status::ok_status();
}

Status copy(void* dst, const void* src, size_t bytes, int32_t device) {
    DeviceGuard guard;
    BNB_FORWARD(guard.enter(device));
    BNB_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
    BNB_CUDA_TRY(cudaStreamSynchronize(cudaStreamLegacy));
    return Status::ok_status();
}

Status last_prefetch_location(const void* data, size_t bytes, int32_t device, int32_t* out) {
    DeviceGuard guard;
    BNB_FORWARD(guard.enter(device));
    int type = 0, id = 0;
    BNB_CUDA_TRY(cudaMemRangeGetAttribute(&type, sizeof type, cudaMemRangeAttributeLastPrefetchLocationType,
                                          const_cast<void*>(data), bytes));
    BNB_CUDA_TRY(cudaMemRangeGetAttribute(&id, sizeof id, cudaMemRangeAttributeLastPrefetchLocationId,
                                          const_cast<void*>(data), bytes));
    switch (type) {
        case cudaMemLocationTypeDevice: *out = id; break;
        case cudaMemLocationTypeHost:
        case cudaMemLocationTypeHostNuma:
        case cudaMemLocationTypeHostNumaCurrent: *out = BNB_DEVICE_CPU; break;
        default: *out = BNB_DEVICE_UNKNOWN; break;
    }
    return Status::ok_status();
}

}  // namespace cuda
}  // namespace bnb
