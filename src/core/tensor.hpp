// Validation of a caller's bnb_tensor, shared by every entry point that takes one.
#pragma once

#include "bnb8.h"
#include "status.hpp"

namespace bnb {

// Known dtype, numel >= 0 and addressable, a device this build supports, non-NULL data when numel > 0,
// data aligned to the element size. `name` prefixes the message ("param", "grad", "src").
Status check_tensor(const bnb_tensor* t, const char* name);

}  // namespace bnb
