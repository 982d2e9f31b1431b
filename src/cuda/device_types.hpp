// The data the CUDA kernels read and write, as plain structs shared by the host code that builds them
// (g++) and the kernels (nvcc). Layouts are the host's; nothing here is part of the public ABI.
//   - DeviceTensor: one row of a group's tensor table (built when registrations, bindings or states
//     change, not per step): buffers, sizes, the group-wide block and run offsets.
//   - StepParam: what the host decided for one parameter this step (uploaded every step).
//   - ParamStatus: what the device keeps per parameter across steps (its step counter t, this step's
//     scalars, the reports of its last applied step, reduction results).
#pragma once

#include <cstdint>

#include "core/rules/quant.hpp"
#include "core/rules/scalars.hpp"

namespace bnb {
namespace cuda {

constexpr int kMaxSlots = 3;            // fp32 state values per element over all states (AdEMAMix)
constexpr int kThreadsPerBlock = 256;   // 8 warps; each warp updates one 256-element block at a time
constexpr int kWarpSize = 32;
constexpr int kElemsPerLane = kBlockSize / kWarpSize;  // 8

// A quantization map as the kernels read it (QuantMap's tables, flattened). Pool index 0 is the
// built-in signed map, 1 the unsigned one; maps loaded from checkpoints follow.
struct alignas(16) DeviceMap {
    float values[kMapSize];
    float mid[kMapSize];
    uint8_t lut[kLutSize];
    uint8_t tiny_code;
    uint8_t zero_code;
    uint8_t is_signed;
    uint8_t has_lut;
};

// One fp32 state row of a tensor (a "slot": AdEMAMix's state1 has two).
struct DeviceSlot {
    float* values;    // 32-bit mode: numel values
    uint8_t* codes;   // 8-bit modes: numel codes
    float* absmax;    // 8-bit: one per block (block-wise) or one (tensor-wise)
    int32_t map;      // 8-bit: index in the map pool
    int32_t reserved;
};

struct DeviceTensor {
    void* param;
    const void* grad;
    int64_t numel;
    int64_t block_begin;   // its first 256-element block in the group's block range
    int64_t run_begin;     // its first level-1 run of 256 block partials (ALGORITHMS.md §7.1)
    float* clip_history;   // percentile clipping's 100 squared norms, or nullptr
    DeviceSlot slot[kMaxSlots];
    int32_t param_index;   // into StepParam and ParamStatus
    int32_t mode;          // bnb_state_mode (32-bit for rules without states)
    int32_t vector_ok;     // every buffer allows 4-element vector accesses in full blocks
    int32_t reserved;
};

struct StepParam {
    double lr;           // trust-ratio rules: lrs = fl32(lr * scale)
    double max_unorm;    // trust-ratio cap
    int64_t t_lo;        // candidate row r holds the scalars of t = t_lo + 1 + r
    int32_t rows;        // candidate rows; 0: the parameter does not take this step
    int32_t exact;       // 1: the counter before this step is t_lo (the device's copy is reset to it)
    int32_t first_row;   // index of its row 0 in the step's candidate array
    int32_t skip_zeros;
    int32_t percentile;  // percentile clipping, 100 = off
    int32_t norms;       // trust ratio with max_unorm > 0: a pre-pass reduces ||p|| and ||u||
};

// norm[] indices: the R of §7.1 of g*g (clipping), p*p and u*u (trust ratio).
constexpr int kNormGrad = 0;
constexpr int kNormParam = 1;
constexpr int kNormUpdate = 2;

struct ParamStatus {
    StepScalars k;                     // this step's scalars (gs and lrs are set on the device)
    int64_t t;                         // the parameter's step counter as the device knows it
    double gradient_scale;             // reports of the last applied step (bnb_param_info)
    double trust_ratio;
    double update_sq_norm;
    double norm[3];                    // this step's reductions
    uint32_t absmax_bits[kMaxSlots];   // tensor-wise pre-pass: max |s| as bits (non-negative floats
                                       // order like their bits, so an integer max is exact and order-free)
    int32_t active;                    // it takes this step (it has a gradient and the step is not skipped)
};

// The device's part of a step's report, rewritten every step.
struct DeviceStepReport {
    unsigned long long counted_nonfinite;  // skip_step_on_nonfinite's counting pass
    unsigned long long kept_nonfinite;     // elements the update pass kept for a non-finite gradient
    int64_t params_stepped;
    int32_t skipped;                       // the step's decision, read by every later kernel
    uint32_t errors;                       // kDeviceError* bits: inconsistencies found on the device
};

constexpr uint32_t kDeviceErrorStepCounter = 1u;  // a counter outside the candidate rows (a bnb8 bug)

// Everything a group's kernels read, passed by value.
struct GroupArgs {
    const DeviceTensor* tensors;
    int64_t tensor_count;
    int64_t total_blocks;
    int64_t total_runs;
    ParamStatus* status;          // indexed by param_index
    const StepParam* step;        // indexed by param_index
    const DeviceMap* maps;        // the map pool
    int32_t stage_maps;           // 8-bit tensors present: stage pool maps 0 and 1 in shared memory
    int32_t reserved;
    const float* grad_scale;      // AMP: gradients are read as g / *grad_scale; nullptr: as g
    DeviceStepReport* report;
    double* partials[2];          // level-0 partials, one per block: [0] g*g or p*p, [1] u*u
    double* runs[2];              // level-1 partials, one per run
};

// What each launch of the step kernel does.
enum class Phase : int32_t {
    kPrePass = 0,  // tensor-wise absmax and trust-ratio partials; stores nothing else
    kUpdate = 1    // the update: parameters, states, block absmax
};

// The per-tensor passes between the reductions and the update.
enum class TensorOp : int32_t {
    kClipScale = 0,    // percentile clipping: history and gs
    kTrustRatio = 1,   // trust ratio: lrs and the reports
    kCommitAbsmax = 2  // tensor-wise: the new absmax, after the update pass dequantized with the old one
};

}  // namespace cuda
}  // namespace bnb
