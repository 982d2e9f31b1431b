#include "status.hpp"

#include <cstdarg>
#include <cstdio>

namespace bnb {

Status make_error(bnb_status code, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    va_list copy;
    va_copy(copy, args);
    const int length = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string message;
    if (length > 0) {
        message.resize(static_cast<size_t>(length) + 1);
        std::vsnprintf(message.data(), message.size(), fmt, args);
        message.resize(static_cast<size_t>(length));
    }
    va_end(args);
    return Status(code, std::move(message));
}

}  // namespace bnb
