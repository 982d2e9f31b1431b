#include "param_state.hpp"

#include <string>

#include "backend.hpp"
#include "clipping.hpp"
#include "rules/quant.hpp"

namespace bnb {
namespace {

// bitsandbytes pages the states of parameters with at least this many elements (ALGORITHMS.md §9).
constexpr int64_t kPagedMinNumel = 100000;

template <class Buffer>
Status copy_to(const Buffer& src, const Placement& where, const char* what, Buffer* out) {
    if (src.size() == 0) return Status::ok_status();
    return src.clone(where, what, out);
}

// A copy of every buffer of `states` in `where` (aux: absmax and clipping history).
Status copy_states(const ParamStates& states, const StatePlacement& where, ParamStates* out) {
    ParamStates copy;
    copy.mode = states.mode;
    copy.num_states = states.num_states;
    BNB_FORWARD(copy_to(states.clip_history, where.aux, "clipping history", &copy.clip_history));
    for (int i = 0; i < kMaxStates; ++i) {
        BNB_FORWARD(copy_to(states.values[i], where.states, "state values", &copy.values[i]));
        BNB_FORWARD(copy_to(states.codes[i], where.states, "state codes", &copy.codes[i]));
        BNB_FORWARD(copy_to(states.absmax[i], where.aux, "state absmax", &copy.absmax[i]));
        copy.maps[i] = states.maps[i];
    }
    *out = std::move(copy);
    return Status::ok_status();
}

}  // namespace

int64_t ParamStates::bytes() const {
    int64_t total = clip_history.bytes();
    for (int i = 0; i < kMaxStates; ++i) total += values[i].bytes() + codes[i].bytes() + absmax[i].bytes();
    return total;
}

bnb_state_mode choose_state_mode(const Options& options, int64_t numel) {
    if (options.optim_bits == 32 || numel < options.min_8bit_size) return BNB_STATE_MODE_32BIT;
    return options.block_wise ? BNB_STATE_MODE_8BIT_BLOCKWISE : BNB_STATE_MODE_8BIT_TENSORWISE;
}

StatePlacement state_placement(const bnb_tensor& param, bool paged) {
    if (param.device == BNB_DEVICE_CPU) return StatePlacement{};
    // Note [paged fallback]: a device without managed memory keeps paged states in device memory.
    const bool managed =
        paged && param.numel >= kPagedMinNumel && device_backend().supports_managed_memory(param.device);
    return StatePlacement{managed ? Placement::managed(param.device) : Placement::on_device(param.device),
                          Placement::on_device(param.device)};
}

Status create_states(const AlgorithmTraits& algorithm, bnb_state_mode mode, int num_states, bool clipping,
                     int64_t numel, int64_t param_index, ParamStates* out, const StatePlacement& where) {
    ParamStates fresh;
    fresh.mode = mode;
    fresh.num_states = num_states;
    if (clipping) {
        const std::string what = "clipping history of parameter " + std::to_string(param_index);
        BNB_FORWARD(fresh.clip_history.allocate(kClipHistory, 0.0f, what.c_str(), where.aux));
    }
    for (int i = 0; i < num_states; ++i) {
        const int64_t rows = algorithm.rows[i];
        const std::string what = "state" + std::to_string(i + 1) + " of parameter " + std::to_string(param_index);
        BNB_RETURN_IF(numel > INT64_MAX / rows, BNB_ERR_OUT_OF_MEMORY, "%s: %lld x %lld elements overflow",
                      what.c_str(), static_cast<long long>(rows), static_cast<long long>(numel));
        if (mode == BNB_STATE_MODE_32BIT) {
            BNB_FORWARD(fresh.values[i].allocate(rows * numel, 0.0f, what.c_str(), where.states));
            continue;
        }
        fresh.maps[i] = QuantMap::builtin(algorithm.state_map[i]);
        const uint8_t zero_code = fresh.maps[i]->tables().zero_code;
        const int64_t absmax_per_row = mode == BNB_STATE_MODE_8BIT_BLOCKWISE ? num_blocks(numel) : 1;
        BNB_FORWARD(fresh.codes[i].allocate(rows * numel, zero_code, what.c_str(), where.states));
        BNB_FORWARD(fresh.absmax[i].allocate(rows * absmax_per_row, 0.0f, what.c_str(), where.aux));
    }
    *out = std::move(fresh);
    return Status::ok_status();
}

Status place_states(const StatePlacement& where, ParamStates* states) {
    ParamStates placed;
    BNB_FORWARD(copy_states(*states, where, &placed));
    *states = std::move(placed);
    return Status::ok_status();
}

Status host_readable(const ParamStates& states, ParamStates* scratch, const ParamStates** out) {
    bool on_host = states.clip_history.on_host();
    for (int i = 0; i < kMaxStates; ++i) {
        on_host = on_host && states.values[i].on_host() && states.codes[i].on_host() && states.absmax[i].on_host();
    }
    if (!on_host) BNB_FORWARD(copy_states(states, StatePlacement{}, scratch));
    *out = on_host ? &states : scratch;
    return Status::ok_status();
}

void read_state_values(const AlgorithmTraits& algorithm, const ParamStates& states, int state,
                       int64_t numel, float* dst) {
    const int64_t rows = algorithm.rows[state];
    const int64_t count = rows * numel;
    switch (states.num_states > state ? states.mode : BNB_STATE_MODE_NONE) {
        case BNB_STATE_MODE_NONE:
            for (int64_t i = 0; i < count; ++i) dst[i] = 0.0f;
            return;
        case BNB_STATE_MODE_32BIT:
            for (int64_t i = 0; i < count; ++i) dst[i] = states.values[state][i];
            return;
        case BNB_STATE_MODE_8BIT_BLOCKWISE:
        case BNB_STATE_MODE_8BIT_TENSORWISE: {
            const QuantTables q = states.maps[state]->tables();
            const bool blockwise = states.mode == BNB_STATE_MODE_8BIT_BLOCKWISE;
            const int64_t blocks = num_blocks(numel);
            for (int64_t r = 0; r < rows; ++r) {
                const uint8_t* codes = states.codes[state].data() + r * numel;
                const float* absmax = states.absmax[state].data() + (blockwise ? r * blocks : r);
                float* out = dst + r * numel;
                for (int64_t i = 0; i < numel; ++i) {
                    out[i] = dequantize(q, codes[i], blockwise ? absmax[i / kBlockSize] : absmax[0]);
                }
            }
            return;
        }
    }
}

}  // namespace bnb
