#include "tensor.hpp"

#include <cstdint>

#include "backend.hpp"
#include "names.hpp"

namespace bnb {

Status check_tensor(const bnb_tensor* t, const char* name) {
    BNB_RETURN_IF(t == nullptr, BNB_ERR_INVALID_ARGUMENT, "%s is NULL", name);
    const int size = dtype_size(t->dtype);
    BNB_RETURN_IF(size == 0, BNB_ERR_INVALID_ARGUMENT, "%s->dtype = %d is not a known bnb_dtype", name,
                  t->dtype);
    BNB_RETURN_IF(t->numel < 0, BNB_ERR_INVALID_ARGUMENT, "%s->numel = %lld is negative", name,
                  static_cast<long long>(t->numel));
    BNB_RETURN_IF(t->numel > INT64_MAX / size, BNB_ERR_INVALID_ARGUMENT,
                  "%s->numel = %lld elements of %d bytes overflow the address space", name,
                  static_cast<long long>(t->numel), size);
    BNB_RETURN_IF(t->device < BNB_DEVICE_CPU, BNB_ERR_INVALID_ARGUMENT,
                  "%s->device = %d is neither BNB_DEVICE_CPU (-1) nor a CUDA ordinal", name, t->device);
    BNB_RETURN_IF(t->device >= 0 && !device_backend().compiled_in(), BNB_ERR_UNSUPPORTED,
                  "%s->device = %d is a CUDA device, and this build has no CUDA backend", name, t->device);
    BNB_RETURN_IF(t->numel > 0 && t->data == nullptr, BNB_ERR_INVALID_ARGUMENT,
                  "%s->data is NULL with numel = %lld", name, static_cast<long long>(t->numel));
    BNB_RETURN_IF(reinterpret_cast<uintptr_t>(t->data) % static_cast<uintptr_t>(size) != 0,
                  BNB_ERR_INVALID_ARGUMENT, "%s->data = %p is not aligned to its %d-byte %s elements", name,
                  t->data, size, dtype_name(t->dtype));
    if (t->device >= 0) {
        return device_backend().check_pointer(t->numel > 0 ? t->data : nullptr, t->device, name);
    }
    return Status::ok_status();
}

}  // namespace bnb
