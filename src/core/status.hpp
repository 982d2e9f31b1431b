// bnb::Status, the one error currency behind the C ABI: a public status code plus a message naming the
// argument and its value. Only src/api turns it into the thread-local message and the public enum.
#pragma once

#include <string>
#include <utility>

#include "bnb8.h"

namespace bnb {

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(bnb_status code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok_status() { return Status(); }
    bool ok() const { return code_ == BNB_OK; }
    bnb_status code() const { return code_; }
    const std::string& message() const { return message_; }

private:
    bnb_status code_ = BNB_OK;
    std::string message_;
};

// printf-style error construction; the format is checked by the compiler.
Status make_error(bnb_status code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace bnb

// Return an error from the enclosing function when `cond` holds.
#define BNB_RETURN_IF(cond, code, ...)                                                            \
    do {                                                                                          \
        if (cond) return ::bnb::make_error((code), __VA_ARGS__);                                  \
    } while (0)

// Return the status of `expr` from the enclosing function when it is an error.
#define BNB_FORWARD(expr)                                                                         \
    do {                                                                                          \
        ::bnb::Status bnb_forward_status_ = (expr);                                               \
        if (!bnb_forward_status_.ok()) return bnb_forward_status_;                                \
    } while (0)
