// Every extern "C" entry point runs its body through guarded(): a failing bnb::Status becomes the public
// code plus the thread-local message "<function>: <message>", and no exception crosses the C ABI
// (std::bad_alloc becomes BNB_ERR_OUT_OF_MEMORY, anything else BNB_ERR_INTERNAL).
#pragma once

#include <exception>
#include <new>
#include <string>

#include "core/status.hpp"
#include "last_error.hpp"

namespace bnb {
namespace api {

inline bnb_status report(const char* function, const Status& status) {
    if (!status.ok()) set_last_error(std::string(function) + ": " + status.message());
    return status.code();
}

template <class Body>
bnb_status guarded(const char* function, Body&& body) noexcept {
    try {
        return report(function, body());
    } catch (const std::bad_alloc&) {
        return report(function, Status(BNB_ERR_OUT_OF_MEMORY, "out of memory"));
    } catch (const std::exception& e) {
        return report(function, Status(BNB_ERR_INTERNAL, std::string("internal error: ") + e.what()));
    } catch (...) {
        return report(function, Status(BNB_ERR_INTERNAL, "internal error: unknown exception"));
    }
}

}  // namespace api
}  // namespace bnb
