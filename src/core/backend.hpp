// The interface between core and the backends that hold memory and run steps. Core owns it and includes
// no backend (tests/check_layering.cmake fails the build's tests otherwise); src/cpu/ implements
// HostBackend for BNB_DEVICE_CPU tensors, src/cuda/ implements DeviceBackend for device ordinals (with
// no_cuda.cpp behind it in a build without CUDA), and src/api/backend_registry.cpp is the one place that
// picks them. Another backend is a folder implementing one of these classes plus its line there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "algorithm.hpp"
#include "bnb8.h"
#include "host_step.hpp"
#include "memory_placement.hpp"
#include "status.hpp"

namespace bnb {

struct ParamEntry;
struct StepReport;

// ---- Host tensors

// The CPU parameters' update in one step: core adds each parameter, then runs them all at once.
class HostStepPlan {
public:
    virtual ~HostStepPlan() = default;

    // Appends one parameter, at most the capacity the plan was made with; allocates nothing.
    virtual void add(const HostParamStep& step) = 0;
    // Updates every added parameter and its states in place, over `num_threads` threads
    // (bnb_optimizer_config.num_threads; 0 = automatic). Cannot fail.
    virtual void run(int32_t num_threads) = 0;
    // What run() reported for the i-th added parameter.
    virtual const StepOutcome& outcome(size_t i) const = 0;
};

// Backends are constant objects that live as long as the library (nobody deletes one), so neither
// interface has a public destructor, and an implementation can be constexpr: no initialization order.
class HostBackend {
public:
    // A plan with room for `capacity` parameters. Making it is the host step's only allocation (it may
    // throw std::bad_alloc), so core makes it before the step changes anything.
    virtual std::unique_ptr<HostStepPlan> plan(size_t capacity) const = 0;
    // NaN and +-Inf elements of a gradient.
    virtual int64_t count_nonfinite(const void* grad, bnb_dtype dtype, int64_t numel) const = 0;
    // fl32(R(g_i * g_i)) over the raw gradient, non-finite elements contributing 0 (ALGORITHMS.md §7.3).
    virtual float gradient_sq_norm(const void* grad, bnb_dtype dtype, int64_t numel) const = 0;

protected:
    ~HostBackend() = default;
};

// ---- Device tensors (bnb_tensor.device >= 0)

// One device parameter with its effective settings for this step.
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
    void* stream;                      // the backend's stream (cudaStream_t); nullptr: its default stream
    int64_t host_nonfinite;            // non-finite gradient elements of the CPU parameters
    bool wait_for_decision;            // CPU parameters follow the device's skip decision
    std::vector<DeviceParam> params;   // every device parameter (those with a gradient take the step)
};

// The steps of an optimizer's device parameters, all on one device (src/cuda/README.md).
class DeviceSteps {
public:
    virtual ~DeviceSteps() = default;

    virtual int32_t device() const = 0;

    // Enqueues the step of every device parameter with a gradient. Their states exist already. With
    // wait_for_decision, waits for the device's skip decision and returns it in *skipped (else false).
    virtual Status step(const DeviceStepRequest& request, bool* skipped) = 0;

    // Waits for every enqueued step and brings the device's step counters and the reports of their last
    // applied step into the entries; *report receives the device's part of the last step's report.
    virtual Status settle(const std::vector<DeviceParam>& params, StepReport* report) = 0;

    // bnb_optimizer_set_amp_hooks(): validated device pointers, or nullptr.
    virtual Status set_amp_hooks(const float* grad_scale, const float* found_inf) = 0;

    // Enqueues the move of every managed state buffer to host memory (bnb_optimizer_page_out_states) on
    // `stream`, after every step enqueued so far.
    virtual Status page_out(const std::vector<DeviceParam>& params, void* stream) = 0;
};

// Device memory, pointer checks and steps. Every error is a Status naming the call; nothing aborts.
class DeviceBackend {
public:
    // Whether this build has the backend (BNB_FEATURE_CUDA). Without it, every call below that returns
    // a Status fails with BNB_ERR_UNSUPPORTED (never reached: device tensors are rejected first).
    virtual bool compiled_in() const = 0;
    // The number of usable devices; BNB_ERR_NO_CUDA_DEVICE (with the reason) when there is none.
    virtual Status device_count(int32_t* out) const = 0;
    // Checks that `ordinal` is a usable device and that `data` (when not NULL) is device or managed
    // memory accessible on it. `name` prefixes messages ("param").
    virtual Status check_pointer(const void* data, int32_t ordinal, const char* name) const = 0;
    // Whether `ordinal` supports managed memory (paged states fall back to device memory otherwise).
    virtual bool supports_managed_memory(int32_t ordinal) const = 0;

    // Allocates `bytes` (> 0) of device or managed memory on `where.device`.
    virtual Status allocate(size_t bytes, const Placement& where, const char* what, void** out) const = 0;
    // Frees what allocate() returned; errors are ignored (a destructor cannot report them).
    virtual void release(void* data, const Placement& where) const noexcept = 0;
    // Sets `bytes` bytes at `data` to `value` and waits for it.
    virtual Status fill(void* data, uint8_t value, size_t bytes, const Placement& where) const = 0;
    // Copies between any two of host, device and managed memory and waits for the copy.
    virtual Status copy(void* dst, const void* src, size_t bytes, int32_t device) const = 0;
    // Where the pages of a managed buffer were last prefetched to: an ordinal, BNB_DEVICE_CPU, or
    // BNB_DEVICE_UNKNOWN (never prefetched, or split between places).
    virtual Status last_prefetch_location(const void* data, size_t bytes, int32_t device, int32_t* out) const = 0;

    // Creates the device steps for device parameters on `device` at the optimizer's first device
    // registration (*steps is null), and checks later ones against it (one device per optimizer).
    virtual Status attach(int32_t device, std::unique_ptr<DeviceSteps>* steps) const = 0;

protected:
    ~DeviceBackend() = default;
};

// The backends of this build (src/api/backend_registry.cpp).
const HostBackend& host_backend();
const DeviceBackend& device_backend();

}  // namespace bnb
