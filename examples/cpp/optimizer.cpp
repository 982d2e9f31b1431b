// optimizer.cpp -- the bnb8 C API behind trainer::Optimizer.
#include "optimizer.hpp"

#include <string>

#include "errors.hpp"

namespace trainer {

void check(bnb_status status, const char* what) {
    if (status == BNB_OK) return;
    throw Error(std::string(what) + " failed: " + bnb_status_string(status) + "\n  detail: " +
                bnb_last_error_message());
}

Optimizer::Optimizer(const bnb_optimizer_config& config) {
    check(bnb_optimizer_create(&config, &handle_), "bnb_optimizer_create");
}

void Optimizer::add_param(float* param, float* grad, int64_t count, int32_t device) {
    const bnb_tensor p = {param, count, BNB_DTYPE_F32, device};
    const bnb_tensor g = {grad, count, BNB_DTYPE_F32, device};
    check(bnb_optimizer_add_param(handle_, 0, &p, &g, nullptr), "bnb_optimizer_add_param");
}

void Optimizer::step() { check(bnb_step(handle_), "bnb_step"); }

void Optimizer::set_lr(double lr) {
    check(bnb_optimizer_set_hparam(handle_, 0, BNB_HPARAM_LR, lr), "bnb_optimizer_set_hparam (lr)");
}

void Optimizer::synchronize() { check(bnb_optimizer_synchronize(handle_), "bnb_optimizer_synchronize"); }

bnb_optimizer_config Optimizer::config() const {
    bnb_optimizer_config config{};
    config.struct_size = sizeof config;
    check(bnb_optimizer_get_config(handle_, &config), "bnb_optimizer_get_config");
    return config;
}

int64_t Optimizer::state_bytes() const {
    int64_t bytes = 0;
    check(bnb_optimizer_state_bytes(handle_, &bytes), "bnb_optimizer_state_bytes");
    return bytes;
}

int64_t Optimizer::param_count() const {
    int64_t count = 0;
    check(bnb_optimizer_param_count(handle_, &count), "bnb_optimizer_param_count");
    return count;
}

bnb_param_info Optimizer::param_info(int64_t index) const {
    bnb_param_info info{};
    info.struct_size = sizeof info;
    check(bnb_optimizer_param_info(handle_, index, &info), "bnb_optimizer_param_info");
    return info;
}

std::vector<float> Optimizer::state(int64_t index, int32_t which) const {
    std::vector<float> values(static_cast<size_t>(param_info(index).numel));
    check(bnb_optimizer_copy_state(handle_, index, which, values.data(), static_cast<int64_t>(values.size())),
          "bnb_optimizer_copy_state");
    return values;
}

}  // namespace trainer
