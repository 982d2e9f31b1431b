// The thread-local detailed message behind bnb_last_error_message().
#pragma once

#include <string>

namespace bnb {
namespace api {

void set_last_error(std::string message);
const char* last_error();

}  // namespace api
}  // namespace bnb
