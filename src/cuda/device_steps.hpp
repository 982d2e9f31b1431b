// The optimizer's entry into the CUDA backend: it steps the CUDA parameters (all on one device) with
// one kernel launch per (rule, dtype) group, keeps the device-side bookkeeping (tensor tables, step
// counters, reports), and brings results back to the parameter entries when the optimizer settles.
// Plain C++: the optimizer includes this in every build; without CUDA, attach_device() fails with
// BNB_ERR_UNSUPPORTED (never reached: CUDA tensors are rejected before).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/algorithm.hpp"
#include "core/optimizer.hpp"
#include "core/status.hpp"

namespace bnb {
namespace cuda {

// One CUDA parameter with its effective settings for this step.
struct DeviceParam {
    int64_t index;       // parameter index
    ParamEntry* entry;   // its entry; step and last_* fields are written by the device steps
    Hparams hparams;
    Options options;
};

struct DeviceStepRequest {
    const AlgorithmTraits* algorithm;
    bool nesterov;
    bool skip_step_on_nonfinite;
    void* stream;                      // cudaStream_t; nullptr: the legacy default stream
    int64_t host_nonfinite;            // non-finite gradient elements of the CPU parameters
    bool wait_for_decision;            // CPU parameters follow the device's skip decision
    std::vector<DeviceParam> params;   // every CUDA parameter (those with a gradient take the step)
};

class DeviceSteps {
public:
    virtual ~DeviceSteps() = default;

    virtual int32_t device() const = 0;

    // Enqueues the step of every CUDA parameter with a gradient. Their states exist already. With
    // wait_for_decision, waits for the device's skip decision and returns it in *skipped (else false).
    virtual Status step(const DeviceStepRequest& request, bool* skipped) = 0;

    // Waits for every enqueued step and brings the device's step counters and the reports of their last
    // applied step into the entries; *report receives the device's part of the last step's report.
    virtual Status settle(const std::vector<DeviceParam>& params, StepReport* report) = 0;

    // bnb_optimizer_set_amp_hooks(): validated device pointers, or nullptr.
    virtual Status set_amp_hooks(const float* grad_scale, const float* found_inf) = 0;

    // Enqueues the move of every managed state buffer to host memory (bnb_optimizer_page_out_states) on
    // `stream` (a cudaStream_t), after every step enqueued so far.
    virtual Status page_out(const std::vector<DeviceParam>& params, void* stream) = 0;
};

// Creates the device steps for CUDA parameters on `device` on the first CUDA registration, and checks
// later ones against it (one device per optimizer).
Status attach_device(int32_t device, std::unique_ptr<DeviceSteps>* steps);

}  // namespace cuda
}  // namespace bnb
