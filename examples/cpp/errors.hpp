// errors.hpp -- how train_mlp reports failures: exceptions inside the program, turned into a message
// and an exit status in main() only (the program never aborts or exits from deep inside).
#pragma once

#include <stdexcept>
#include <string>

namespace trainer {

// Exit statuses, also listed in --help.
enum ExitStatus : int {
    kExitPassed = 0,        // the acceptance checks passed
    kExitFailed = 1,        // a check failed, or bnb8, BLAS or CUDA reported an error
    kExitUsage = 2,         // a command-line error
    kExitDeviceMissing = 77 // --device cuda without a usable GPU (ctest's "skipped" code)
};

// Anything that stops the run: a bnb8 status, a BLAS or CUDA failure, an allocation that failed.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The command line is wrong; main() prints the message and the usage text.
class UsageError : public Error {
public:
    using Error::Error;
};

// The device that was asked for cannot be used here (no GPU, no driver, a build without CUDA).
class DeviceUnavailable : public Error {
public:
    using Error::Error;
};

}  // namespace trainer
