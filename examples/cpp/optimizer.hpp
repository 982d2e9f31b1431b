// optimizer.hpp -- a bnb8 optimizer handle as a C++ object: created in the constructor, destroyed in the
// destructor, every failing status thrown as trainer::Error with bnb8's message.
#pragma once

#include <cstdint>
#include <vector>

#include "bnb8.h"

namespace trainer {

// Throws Error("<what> failed: <status sentence> -- <bnb_last_error_message()>") unless status is BNB_OK.
void check(bnb_status status, const char* what);

class Optimizer {
public:
    explicit Optimizer(const bnb_optimizer_config& config);
    ~Optimizer() { bnb_optimizer_destroy(handle_); }
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // Registers `count` floats of parameter and gradient on `device` (BNB_DEVICE_CPU or a CUDA ordinal)
    // in group 0. bnb8 keeps the pointers: the buffers must not move while the optimizer lives.
    void add_param(float* param, float* grad, int64_t count, int32_t device);
    void step();
    void set_lr(double lr);
    void synchronize();  // waits for steps enqueued on a GPU (a no-op for CPU parameters)

    bnb_optimizer_config config() const;
    int64_t state_bytes() const;
    int64_t param_count() const;
    bnb_param_info param_info(int64_t index) const;
    // The fp32 (dequantized) values of state `which` (BNB_STATE1 or BNB_STATE2) of parameter `index`.
    std::vector<float> state(int64_t index, int32_t which) const;

private:
    bnb_optimizer* handle_ = nullptr;
};

}  // namespace trainer
