#include "device_backend.hpp"

#include "device_memory.hpp"
#include "device_steps.hpp"

namespace bnb {
namespace cuda {
namespace {

class CudaBackend final : public DeviceBackend {
public:
    bool compiled_in() const override { return cuda::compiled_in(); }
    Status device_count(int32_t* out) const override { return cuda::device_count(out); }
    Status check_pointer(const void* data, int32_t ordinal, const char* name) const override {
        return check_device_pointer(data, ordinal, name);
    }
    bool supports_managed_memory(int32_t ordinal) const override { return cuda::supports_managed_memory(ordinal); }
    Status allocate(size_t bytes, const Placement& where, const char* what, void** out) const override {
        return cuda::allocate(bytes, where, what, out);
    }
    void release(void* data, const Placement& where) const noexcept override { cuda::release(data, where); }
    Status fill(void* data, uint8_t value, size_t bytes, const Placement& where) const override {
        return cuda::fill(data, value, bytes, where);
    }
    Status copy(void* dst, const void* src, size_t bytes, int32_t device) const override {
        return cuda::copy(dst, src, bytes, device);
    }
    Status last_prefetch_location(const void* data, size_t bytes, int32_t device, int32_t* out) const override {
        return cuda::last_prefetch_location(data, bytes, device, out);
    }
    Status attach(int32_t device, std::unique_ptr<DeviceSteps>* steps) const override {
        return attach_device(device, steps);
    }
};

constexpr CudaBackend kBackend{};

}  // namespace

const DeviceBackend& device_backend() { return kBackend; }

}  // namespace cuda
}  // namespace bnb
