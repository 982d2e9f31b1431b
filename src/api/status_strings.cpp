// bnb_status_string(): one static, actionable sentence per status code.
#include "bnb8.h"

extern "C" const char* bnb_status_string(int32_t status) {
    switch (status) {
        case BNB_OK: return "Success.";
        case BNB_ERR_INVALID_ARGUMENT:
            return "Invalid argument: a pointer is NULL or a value is out of range, unknown or inconsistent; "
                   "bnb_last_error_message() names it.";
        case BNB_ERR_INVALID_STATE:
            return "Invalid state: the call is not allowed at this point of the optimizer's life (for example "
                   "a step before any parameter is registered).";
        case BNB_ERR_OUT_OF_MEMORY:
            return "Out of memory: an allocation failed and nothing was changed; free memory or use smaller "
                   "or 8-bit states.";
        case BNB_ERR_UNSUPPORTED:
            return "Unsupported: the request is valid but this build or algorithm does not support it.";
        case BNB_ERR_NO_CUDA_DEVICE:
            return "No CUDA device: a CUDA device was requested but none is usable; check the driver and "
                   "CUDA_VISIBLE_DEVICES.";
        case BNB_ERR_CUDA: return "CUDA failure: a CUDA call failed; bnb_last_error_message() names it.";
        case BNB_ERR_IO: return "I/O error: a file could not be opened, read, written or renamed.";
        case BNB_ERR_BAD_FORMAT:
            return "Bad format: the serialized data is malformed, truncated or corrupt; it was not loaded.";
        case BNB_ERR_VERSION:
            return "Unsupported version: a struct_size or file format version this library cannot handle.";
        case BNB_ERR_INTERNAL:
            return "Internal error: a bug in bnb8; please report it with bnb_last_error_message().";
    }
    return "Unknown status code: not a bnb_status value of this library version.";
}
