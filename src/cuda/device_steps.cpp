// The CUDA implementation of DeviceSteps: device buffers, the ring of per-step upload slots, the launch
// sequence of a step, and settling. Launch structure, memory and synchronization: README.md beside this
// file.
#include "device_steps.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "cuda_check.hpp"
#include "device_memory.hpp"
#include "kernels.hpp"
#include "launch_plan.hpp"
#include "step_counters.hpp"
#include "step_inputs.hpp"

namespace bnb {
namespace cuda {
namespace {

// Per-step upload slots; a slot is reused 8 steps later, after its step has finished.
constexpr int kRingSlots = 8;

// A device allocation that grows on demand. Growing frees the old buffer, so callers grow only while
// the device is idle for this optimizer.
class DeviceArray {
public:
    DeviceArray() = default;
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() {
        if (data_ != nullptr) (void)cudaFree(data_);
    }

    Status reserve(size_t bytes) {
        if (bytes <= capacity_) return Status::ok_status();
        void* fresh = nullptr;
        BNB_CUDA_TRY(cudaMalloc(&fresh, bytes));
        if (data_ != nullptr) (void)cudaFree(data_);
        data_ = fresh;
        capacity_ = bytes;
        return Status::ok_status();
    }
    template <class T>
    T* as() const {
        return static_cast<T*>(data_);
    }
    void swap(DeviceArray& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(capacity_, other.capacity_);
    }

private:
    void* data_ = nullptr;
    size_t capacity_ = 0;
};

struct RingSlot {
    void* host = nullptr;        // page-locked staging of the step's upload
    size_t host_capacity = 0;
    DeviceArray device;          // the step's StepParam array, then its candidate scalars
    cudaEvent_t done = nullptr;  // recorded after the step's last operation
    bool used = false;
};

// The entries of the CUDA parameters by parameter index.
std::vector<ParamEntry*> entries_by_index(const std::vector<DeviceParam>& params) {
    std::vector<ParamEntry*> out;
    for (const DeviceParam& p : params) {
        if (p.index >= static_cast<int64_t>(out.size())) out.resize(static_cast<size_t>(p.index) + 1, nullptr);
        out[static_cast<size_t>(p.index)] = p.entry;
    }
    return out;
}

DeviceMap device_map(const QuantMap& map) {
    DeviceMap d;
    std::memset(&d, 0, sizeof d);
    const QuantTables t = map.tables();
    std::memcpy(d.values, t.values, sizeof d.values);
    std::memcpy(d.mid, t.mid, sizeof d.mid);
    if (t.lut != nullptr) std::memcpy(d.lut, t.lut, sizeof d.lut);
    d.tiny_code = t.tiny_code;
    d.zero_code = t.zero_code;
    d.is_signed = t.is_signed ? 1 : 0;
    d.has_lut = t.lut != nullptr ? 1 : 0;
    return d;
}

ParamStatus fresh_status() {
    ParamStatus s;
    std::memset(&s, 0, sizeof s);
    s.gradient_scale = 1.0;
    s.trust_ratio = 1.0;
    return s;
}

Status launch_step_kernel(RuleId rule, bnb_dtype dtype, const GroupArgs& args, Phase phase, const Launch& launch) {
    switch (rule) {
        case RuleId::kAdamL2:
        case RuleId::kAdamW: return launch_step_adam(rule, dtype, args, phase, launch);
        case RuleId::kSgdPlain:
        case RuleId::kSgdMomentum:
        case RuleId::kSgdNesterov: return launch_step_sgd(rule, dtype, args, phase, launch);
        case RuleId::kLion: return launch_step_lion(rule, dtype, args, phase, launch);
        case RuleId::kLamb:
        case RuleId::kLars: return launch_step_trust_ratio(rule, dtype, args, phase, launch);
        case RuleId::kRmsprop:
        case RuleId::kAdagrad: return launch_step_rmsprop(rule, dtype, args, phase, launch);
        case RuleId::kAdemamix: return launch_step_ademamix(rule, dtype, args, phase, launch);
        case RuleId::kCount: break;
    }
    return make_error(BNB_ERR_INTERNAL, "no step kernel for rule %d", static_cast<int>(rule));
}

class CudaSteps final : public DeviceSteps {
public:
    explicit CudaSteps(int32_t device) : device_(device) {}
    ~CudaSteps() override;

    int32_t device() const override { return device_; }
    Status step(const DeviceStepRequest& request, bool* skipped) override;
    Status settle(const std::vector<DeviceParam>& params, StepReport* report) override;
    Status set_amp_hooks(const float* grad_scale, const float* found_inf) override;
    Status page_out(const std::vector<DeviceParam>& params, void* stream) override;

private:
    Status initialize();
    Status wait_idle();
    Status resolve(std::vector<ParamEntry*>& entries, bool wait);
    Status reclaim(int slot, std::vector<ParamEntry*>& entries);
    Status install_plan(LaunchPlan plan, int64_t slots);
    Status grow_status(int64_t slots);
    Status upload_inputs(int slot, const StepInputs& inputs, cudaStream_t stream);
    Status prefetch_states(const std::vector<DeviceParam>& params, cudaStream_t stream);
    Status enqueue(const DeviceStepRequest& request, const StepInputs& inputs, int slot, cudaStream_t stream);
    GroupArgs group_args(size_t group, const StepParam* step) const;

    const int32_t device_;
    bool initialized_ = false;
    int32_t sm_count_ = 1;
    bool concurrent_managed_ = false;
    RingSlot ring_[kRingSlots];
    int32_t* decisions_ = nullptr;  // page-locked: each slot's copy of report.skipped
    int next_slot_ = 0;

    LaunchPlan plan_;                 // the tables the device holds
    std::vector<int64_t> group_offset_;
    DeviceArray tables_, maps_, report_;
    DeviceArray partials_[2], runs_[2];
    DeviceArray status_;
    int64_t status_slots_ = 0;

    StepCounters counters_;
    std::vector<char> stepped_;  // took part in a step since the last settle (its counter is checked)
    std::vector<char> fresh_;    // an applied step since the last settle: its reports are new

    const float* grad_scale_ = nullptr;
    const float* found_inf_ = nullptr;

    int last_slot_ = -1;              // the ring slot of the last step enqueued, and its stream
    cudaStream_t last_stream_ = nullptr;
};

CudaSteps::~CudaSteps() {
    DeviceGuard guard;
    if (!guard.enter(device_).ok()) return;
    for (RingSlot& slot : ring_) {
        if (slot.used) (void)cudaEventSynchronize(slot.done);
        if (slot.done != nullptr) (void)cudaEventDestroy(slot.done);
        if (slot.host != nullptr) (void)cudaFreeHost(slot.host);
    }
    if (decisions_ != nullptr) (void)cudaFreeHost(decisions_);
    (void)cudaGetLastError();
}

Status CudaSteps::initialize() {
    if (initialized_) return Status::ok_status();
    int value = 0;
    BNB_CUDA_TRY(cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount, device_));
    sm_count_ = value;
    BNB_CUDA_TRY(cudaDeviceGetAttribute(&value, cudaDevAttrConcurrentManagedAccess, device_));
    concurrent_managed_ = value != 0;
    for (RingSlot& slot : ring_) {
        if (slot.done == nullptr) BNB_CUDA_TRY(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming));
    }
    if (decisions_ == nullptr) {
        void* pinned = nullptr;
        BNB_CUDA_TRY(cudaHostAlloc(&pinned, sizeof(int32_t) * kRingSlots, cudaHostAllocDefault));
        decisions_ = static_cast<int32_t*>(pinned);
    }
    BNB_FORWARD(report_.reserve(sizeof(DeviceStepReport)));
    initialized_ = true;
    return Status::ok_status();
}

Status CudaSteps::wait_idle() {
    for (RingSlot& slot : ring_) {
        if (slot.used) BNB_CUDA_TRY(cudaEventSynchronize(slot.done));
    }
    return Status::ok_status();
}

// Applies the decisions of finished skippable steps, oldest first (with `wait`, of all of them).
Status CudaSteps::resolve(std::vector<ParamEntry*>& entries, bool wait) {
    while (!counters_.empty()) {
        const int slot = counters_.oldest_slot();
        if (wait) {
            BNB_CUDA_TRY(cudaEventSynchronize(ring_[slot].done));
        } else {
            const cudaError_t state = cudaEventQuery(ring_[slot].done);
            if (state == cudaErrorNotReady) break;
            BNB_CUDA_TRY(state);
        }
        const bool applied = decisions_[slot] == 0;
        for (int64_t index : counters_.pop()) {
            if (!applied) continue;
            entries[static_cast<size_t>(index)]->step += 1;
            fresh_[static_cast<size_t>(index)] = 1;
        }
    }
    return Status::ok_status();
}

// Makes ring slot `slot` free for this step: its previous step (8 steps ago) has finished and, if it
// was skippable, its decision is applied. Waits only when the host is that far ahead.
Status CudaSteps::reclaim(int slot, std::vector<ParamEntry*>& entries) {
    if (!ring_[slot].used) return Status::ok_status();
    if (!counters_.empty() && counters_.oldest_slot() == slot) {
        BNB_CUDA_TRY(cudaEventSynchronize(ring_[slot].done));
        BNB_FORWARD(resolve(entries, false));
    }
    BNB_CUDA_TRY(cudaEventSynchronize(ring_[slot].done));
    return Status::ok_status();
}

Status CudaSteps::grow_status(int64_t slots) {
    std::vector<ParamStatus> host(static_cast<size_t>(slots), fresh_status());
    if (status_slots_ > 0) {
        BNB_CUDA_TRY(cudaMemcpy(host.data(), status_.as<void>(), sizeof(ParamStatus) * static_cast<size_t>(status_slots_),
                                cudaMemcpyDeviceToHost));
    }
    DeviceArray grown;
    BNB_FORWARD(grown.reserve(sizeof(ParamStatus) * host.size()));
    BNB_CUDA_TRY(cudaMemcpy(grown.as<void>(), host.data(), sizeof(ParamStatus) * host.size(), cudaMemcpyHostToDevice));
    status_.swap(grown);
    status_slots_ = slots;
    stepped_.resize(host.size(), 0);
    fresh_.resize(host.size(), 0);
    return Status::ok_status();
}

// New tables (registrations, bindings or states changed): written while the device is idle for this
// optimizer, so no earlier step still reads the old ones.
Status CudaSteps::install_plan(LaunchPlan plan, int64_t slots) {
    BNB_FORWARD(wait_idle());
    std::vector<DeviceTensor> tables;
    std::vector<int64_t> offsets;
    int64_t reduce_blocks = 1, reduce_runs = 1;
    for (const GroupPlan& g : plan.groups) {
        offsets.push_back(static_cast<int64_t>(tables.size()));
        tables.insert(tables.end(), g.tensors.begin(), g.tensors.end());
        if (g.has_clipping || is_trust_ratio_rule(g.rule)) {
            reduce_blocks = std::max(reduce_blocks, g.total_blocks);
            reduce_runs = std::max(reduce_runs, g.total_runs);
        }
    }
    BNB_FORWARD(tables_.reserve(std::max<size_t>(1, tables.size()) * sizeof(DeviceTensor)));
    if (!tables.empty()) {
        BNB_CUDA_TRY(cudaMemcpy(tables_.as<void>(), tables.data(), tables.size() * sizeof(DeviceTensor),
                                cudaMemcpyHostToDevice));
    }
    if (plan.maps != plan_.maps) {
        std::vector<DeviceMap> pool;
        for (const QuantMap* map : plan.maps) pool.push_back(device_map(*map));
        BNB_FORWARD(maps_.reserve(pool.size() * sizeof(DeviceMap)));
        BNB_CUDA_TRY(cudaMemcpy(maps_.as<void>(), pool.data(), pool.size() * sizeof(DeviceMap), cudaMemcpyHostToDevice));
    }
    for (int i = 0; i < 2; ++i) {
        BNB_FORWARD(partials_[i].reserve(sizeof(double) * static_cast<size_t>(reduce_blocks)));
        BNB_FORWARD(runs_[i].reserve(sizeof(double) * static_cast<size_t>(reduce_runs)));
    }
    if (slots > status_slots_) BNB_FORWARD(grow_status(slots));
    plan_ = std::move(plan);
    group_offset_ = std::move(offsets);
    return Status::ok_status();
}

Status CudaSteps::upload_inputs(int slot, const StepInputs& inputs, cudaStream_t stream) {
    RingSlot& r = ring_[slot];
    const size_t param_bytes = inputs.params.size() * sizeof(StepParam);
    const size_t bytes = param_bytes + inputs.candidates.size() * sizeof(StepScalars);
    if (bytes > r.host_capacity) {
        if (r.host != nullptr) BNB_CUDA_TRY(cudaFreeHost(r.host));
        r.host = nullptr;
        r.host_capacity = 0;
        BNB_CUDA_TRY(cudaHostAlloc(&r.host, bytes, cudaHostAllocDefault));
        r.host_capacity = bytes;
    }
    BNB_FORWARD(r.device.reserve(bytes));
    std::memcpy(r.host, inputs.params.data(), param_bytes);
    std::memcpy(static_cast<char*>(r.host) + param_bytes, inputs.candidates.data(),
                inputs.candidates.size() * sizeof(StepScalars));
    BNB_CUDA_TRY(cudaMemcpyAsync(r.device.as<void>(), r.host, bytes, cudaMemcpyHostToDevice, stream));
    return Status::ok_status();
}

// Enqueues the move of the managed state buffers (values or codes) of `states` to `location`.
Status prefetch_managed(const ParamStates& states, const cudaMemLocation& location, cudaStream_t stream) {
    for (int s = 0; s < kMaxStates; ++s) {
        const struct {
            const void* data;
            int64_t bytes;
            MemoryKind kind;
        } buffers[2] = {{states.values[s].data(), states.values[s].bytes(), states.values[s].placement().kind},
                        {states.codes[s].data(), states.codes[s].bytes(), states.codes[s].placement().kind}};
        for (const auto& b : buffers) {
            if (b.kind != MemoryKind::kManaged || b.bytes == 0) continue;
            BNB_CUDA_TRY(cudaMemPrefetchAsync(b.data, static_cast<size_t>(b.bytes), location, 0, stream));
        }
    }
    return Status::ok_status();
}

cudaMemLocation location_of(cudaMemLocationType type, int id) {
    cudaMemLocation location;
    std::memset(&location, 0, sizeof location);
    location.type = type;
    location.id = id;
    return location;
}

// Note [paged prefetch]: managed state buffers move to the device on the step's stream before its
// kernels (ALGORITHMS.md §9), where the device supports it; elsewhere pages migrate on demand.
Status CudaSteps::prefetch_states(const std::vector<DeviceParam>& params, cudaStream_t stream) {
    if (!concurrent_managed_) return Status::ok_status();
    const cudaMemLocation device = location_of(cudaMemLocationTypeDevice, device_);
    for (const DeviceParam& p : params) {
        if (p.entry->has_grad) BNB_FORWARD(prefetch_managed(p.entry->states, device, stream));
    }
    return Status::ok_status();
}

GroupArgs CudaSteps::group_args(size_t group, const StepParam* step) const {
    const GroupPlan& g = plan_.groups[group];
    GroupArgs a;
    std::memset(&a, 0, sizeof a);
    a.tensors = tables_.as<DeviceTensor>() + group_offset_[group];
    a.tensor_count = static_cast<int64_t>(g.tensors.size());
    a.total_blocks = g.total_blocks;
    a.total_runs = g.total_runs;
    a.status = status_.as<ParamStatus>();
    a.step = step;
    a.maps = maps_.as<DeviceMap>();
    a.stage_maps = g.has_8bit ? 1 : 0;
    a.grad_scale = grad_scale_;
    a.report = report_.as<DeviceStepReport>();
    for (int i = 0; i < 2; ++i) {
        a.partials[i] = partials_[i].as<double>();
        a.runs[i] = runs_[i].as<double>();
    }
    return a;
}

// The launch sequence of one step (README.md, "Launches").
Status CudaSteps::enqueue(const DeviceStepRequest& request, const StepInputs& inputs, int slot, cudaStream_t stream) {
    const StepParam* step = ring_[slot].device.as<StepParam>();
    const StepScalars* candidates = reinterpret_cast<const StepScalars*>(step + inputs.params.size());
    const Launch launch{stream, sm_count_};
    BNB_CUDA_TRY(cudaMemsetAsync(report_.as<void>(), 0, sizeof(DeviceStepReport), stream));
    if (request.skip_step_on_nonfinite) {
        for (size_t g = 0; g < plan_.groups.size(); ++g) {
            BNB_FORWARD(launch_count_nonfinite(plan_.groups[g].dtype, group_args(g, step), launch));
        }
    }
    GateArgs gate;
    std::memset(&gate, 0, sizeof gate);
    gate.step = step;
    gate.status = status_.as<ParamStatus>();
    gate.candidates = candidates;
    gate.slots = static_cast<int64_t>(inputs.params.size());
    gate.found_inf = found_inf_;
    gate.skip_nonfinite = request.skip_step_on_nonfinite ? 1 : 0;
    gate.host_nonfinite = request.host_nonfinite;
    gate.participants = static_cast<int64_t>(inputs.participants.size());
    gate.report = report_.as<DeviceStepReport>();
    BNB_FORWARD(launch_gate(gate, launch));

    for (size_t g = 0; g < plan_.groups.size(); ++g) {
        const GroupPlan& group = plan_.groups[g];
        const GroupArgs args = group_args(g, step);
        if (group.has_clipping) {
            BNB_FORWARD(launch_gradient_partials(group.dtype, args, launch));
            BNB_FORWARD(launch_reduce(args, 1, true, kNormGrad, launch));
            BNB_FORWARD(launch_tensor_pass(args, TensorOp::kClipScale, launch));
        }
        bool norms = false;
        if (is_trust_ratio_rule(group.rule)) {
            for (const DeviceTensor& t : group.tensors) norms = norms || inputs.params[t.param_index].norms != 0;
        }
        if (group.has_tensorwise || norms) {
            BNB_FORWARD(launch_step_kernel(group.rule, group.dtype, args, Phase::kPrePass, launch));
            if (norms) {
                BNB_FORWARD(launch_reduce(args, 2, false, kNormParam, launch));
                BNB_FORWARD(launch_tensor_pass(args, TensorOp::kTrustRatio, launch));
            }
        }
        BNB_FORWARD(launch_step_kernel(group.rule, group.dtype, args, Phase::kUpdate, launch));
        if (group.has_tensorwise) BNB_FORWARD(launch_tensor_pass(args, TensorOp::kCommitAbsmax, launch));
    }
    return Status::ok_status();
}

Status CudaSteps::step(const DeviceStepRequest& request, bool* skipped) {
    *skipped = false;
    DeviceGuard guard;
    BNB_FORWARD(guard.enter(device_));
    BNB_FORWARD(initialize());
    const cudaStream_t stream = static_cast<cudaStream_t>(request.stream);
    std::vector<ParamEntry*> entries = entries_by_index(request.params);
    const int64_t slots = static_cast<int64_t>(entries.size());
    if (slots > status_slots_) {
        stepped_.resize(static_cast<size_t>(slots), 0);
        fresh_.resize(static_cast<size_t>(slots), 0);
    }
    BNB_FORWARD(resolve(entries, false));
    const int slot = next_slot_;
    BNB_FORWARD(reclaim(slot, entries));

    LaunchPlan plan;
    BNB_FORWARD(build_launch_plan(*request.algorithm, request.nesterov, request.params, &plan));
    if (!same_tables(plan, plan_) || slots > status_slots_) BNB_FORWARD(install_plan(std::move(plan), slots));
    const StepInputs inputs = build_step_inputs(*request.algorithm, request.params, counters_, status_slots_);
    // Note [stream switch]: every step reuses this optimizer's device buffers (report, status, partials,
    // states), so a step on another stream than the last one first waits, on the device, for that step.
    if (last_slot_ >= 0 && stream != last_stream_) {
        BNB_CUDA_TRY(cudaStreamWaitEvent(stream, ring_[last_slot_].done, 0));
    }
    BNB_FORWARD(upload_inputs(slot, inputs, stream));
    BNB_FORWARD(prefetch_states(request.params, stream));
    BNB_FORWARD(enqueue(request, inputs, slot, stream));

    // Note [step candidates]: a step the device may skip is resolved later, from its copied decision.
    const bool may_skip = found_inf_ != nullptr || request.skip_step_on_nonfinite;
    RingSlot& r = ring_[slot];
    if (may_skip) {
        BNB_CUDA_TRY(cudaMemcpyAsync(&decisions_[slot], &report_.as<DeviceStepReport>()->skipped, sizeof(int32_t),
                                     cudaMemcpyDeviceToHost, stream));
    }
    BNB_CUDA_TRY(cudaEventRecord(r.done, stream));
    r.used = true;
    last_slot_ = slot;
    last_stream_ = stream;
    next_slot_ = (slot + 1) % kRingSlots;
    for (int64_t index : inputs.participants) stepped_[static_cast<size_t>(index)] = 1;
    if (!may_skip) {
        for (int64_t index : inputs.participants) {
            entries[static_cast<size_t>(index)]->step += 1;
            fresh_[static_cast<size_t>(index)] = 1;
        }
        return Status::ok_status();
    }
    counters_.push(inputs.participants, slot);
    if (request.wait_for_decision) {
        BNB_FORWARD(resolve(entries, true));
        *skipped = decisions_[slot] != 0;
    }
    return Status::ok_status();
}

Status CudaSteps::settle(const std::vector<DeviceParam>& params, StepReport* report) {
    if (!initialized_) return Status::ok_status();
    DeviceGuard guard;
    BNB_FORWARD(guard.enter(device_));
    std::vector<ParamEntry*> entries = entries_by_index(params);
    BNB_FORWARD(resolve(entries, true));
    BNB_FORWARD(wait_idle());
    DeviceStepReport device_report;
    BNB_CUDA_TRY(cudaMemcpy(&device_report, report_.as<void>(), sizeof device_report, cudaMemcpyDeviceToHost));
    BNB_RETURN_IF(device_report.errors != 0, BNB_ERR_INTERNAL,
                  "the device found inconsistent step counters (errors 0x%x); please report this bug",
                  device_report.errors);
    std::vector<ParamStatus> status(static_cast<size_t>(status_slots_));
    if (status_slots_ > 0) {
        BNB_CUDA_TRY(cudaMemcpy(status.data(), status_.as<void>(), sizeof(ParamStatus) * status.size(),
                                cudaMemcpyDeviceToHost));
    }
    for (const DeviceParam& p : params) {
        const size_t i = static_cast<size_t>(p.index);
        if (i >= status.size()) continue;
        BNB_RETURN_IF(stepped_[i] && status[i].t != p.entry->step, BNB_ERR_INTERNAL,
                      "parameter %lld: the device counted %lld steps, the host %lld; please report this bug",
                      static_cast<long long>(p.index), static_cast<long long>(status[i].t),
                      static_cast<long long>(p.entry->step));
        if (fresh_[i]) {
            p.entry->last_gradient_scale = status[i].gradient_scale;
            p.entry->last_trust_ratio = status[i].trust_ratio;
            p.entry->last_update_sq_norm = status[i].update_sq_norm;
        }
        stepped_[i] = 0;
        fresh_[i] = 0;
    }
    report->nonfinite_count = static_cast<int64_t>(device_report.counted_nonfinite + device_report.kept_nonfinite);
    report->params_stepped = device_report.params_stepped;
    report->skipped = device_report.skipped != 0;
    return Status::ok_status();
}

Status CudaSteps::set_amp_hooks(const float* grad_scale, const float* found_inf) {
    const struct {
        const float* pointer;
        const char* name;
    } hooks[2] = {{grad_scale, "grad_scale"}, {found_inf, "found_inf"}};
    for (const auto& hook : hooks) {
        if (hook.pointer == nullptr) continue;
        BNB_FORWARD(check_device_pointer(hook.pointer, device_, hook.name));
        BNB_RETURN_IF(reinterpret_cast<uintptr_t>(hook.pointer) % alignof(float) != 0, BNB_ERR_INVALID_ARGUMENT,
                      "%s = %p is not aligned to 4 bytes", hook.name, static_cast<const void*>(hook.pointer));
    }
    grad_scale_ = grad_scale;
    found_inf_ = found_inf;
    return Status::ok_status();
}

Status CudaSteps::page_out(const std::vector<DeviceParam>& params, void* stream) {
    DeviceGuard guard;
    BNB_FORWARD(guard.enter(device_));
    BNB_FORWARD(initialize());
    if (!concurrent_managed_) return Status::ok_status();
    const cudaStream_t s = static_cast<cudaStream_t>(stream);
    // After every step enqueued so far, whatever stream it ran on.
    for (RingSlot& slot : ring_) {
        if (slot.used) BNB_CUDA_TRY(cudaStreamWaitEvent(s, slot.done, 0));
    }
    const cudaMemLocation host = location_of(cudaMemLocationTypeHost, 0);
    for (const DeviceParam& p : params) BNB_FORWARD(prefetch_managed(p.entry->states, host, s));
    return Status::ok_status();
}

}  // namespace

Status attach_device(int32_t device, std::unique_ptr<DeviceSteps>* steps) {
    if (*steps != nullptr) {
        BNB_RETURN_IF((*steps)->device() != device, BNB_ERR_UNSUPPORTED,
                      "param->device = %d: this optimizer steps its CUDA parameters on device %d; use one optimizer "
                      "per device",
                      device, (*steps)->device());
        return Status::ok_status();
    }
    *steps = std::make_unique<CudaSteps>(device);
    return Status::ok_status();
}

}  // namespace cuda
}  // namespace bnb
