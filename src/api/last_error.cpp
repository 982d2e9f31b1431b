#include "last_error.hpp"

#include "bnb8.h"

#include <utility>

namespace bnb {
namespace api {
namespace {
thread_local std::string t_last_error;
}  // namespace

void set_last_error(std::string message) { t_last_error = std::move(message); }

const char* last_error() { return t_last_error.c_str(); }

}  // namespace api
}  // namespace bnb

extern "C" const char* bnb_last_error_message(void) { return bnb::api::last_error(); }
