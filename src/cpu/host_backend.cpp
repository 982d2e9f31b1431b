#include "host_backend.hpp"

#include <vector>

#include "cpu_backend.hpp"

namespace bnb {
namespace cpu {
namespace {

// The ParamSteps of one step: their working space is reserved when the plan is made, so add() and
// run() allocate nothing.
class CpuStepPlan final : public HostStepPlan {
public:
    explicit CpuStepPlan(size_t capacity) { steps_.reserve(capacity); }

    void add(const HostParamStep& step) override {
        steps_.emplace_back();
        ParamStep& s = steps_.back();
        s.rule = step.rule;
        s.view = step.view;
        s.scalars = step.scalars;
    }
    void run(int32_t num_threads) override { step_params(steps_.data(), steps_.size(), num_threads); }
    const StepOutcome& outcome(size_t i) const override { return steps_[i].outcome; }

private:
    std::vector<ParamStep> steps_;
};

class CpuBackend final : public HostBackend {
public:
    std::unique_ptr<HostStepPlan> plan(size_t capacity) const override {
        return std::make_unique<CpuStepPlan>(capacity);
    }
    int64_t count_nonfinite(const void* grad, bnb_dtype dtype, int64_t numel) const override {
        return cpu::count_nonfinite(grad, dtype, numel);
    }
    float gradient_sq_norm(const void* grad, bnb_dtype dtype, int64_t numel) const override {
        return cpu::gradient_sq_norm(grad, dtype, numel);
    }
};

constexpr CpuBackend kBackend{};

}  // namespace

const HostBackend& host_backend() { return kBackend; }

}  // namespace cpu
}  // namespace bnb
