// The CUDA entry points of a build without the CUDA backend. CUDA tensors are rejected by check_tensor()
// before anything else here can be reached; the functions still answer with BNB_ERR_UNSUPPORTED.
#include "device_memory.hpp"
#include "device_steps.hpp"

namespace bnb {
namespace cuda {
namespace {

Status no_backend() {
    return make_error(BNB_ERR_UNSUPPORTED, "this build of bnb8 has no CUDA backend (configure with BNB_WITH_CUDA)");
}

}  // namespace

bool compiled_in() { return false; }
Status device_count(int32_t*) { return no_backend(); }
Status check_device_pointer(const void*, int32_t, const char*) { return no_backend(); }
bool supports_managed_memory(int32_t) { return false; }
Status allocate(size_t, const Placement&, const char*, void**) { return no_backend(); }
void release(void*, const Placement&) noexcept {}
Status fill(void*, uint8_t, size_t, const Placement&) { return no_backend(); }
Status copy(void*, const void*, size_t, int32_t) { return no_backend(); }
Status last_prefetch_location(const void*, size_t, int32_t, int32_t*) { return no_backend(); }
Status attach_device(int32_t, std::unique_ptr<DeviceSteps>*) { return no_backend(); }

}  // namespace cuda
}  // namespace bnb
