// The host-side logic of the CUDA backend, runnable without a GPU (and in builds without CUDA):
//  - the warp schedule of the §7.1 level-0 tree (lane_tree.hpp), replayed over 32 emulated lanes, equals
//    tree_sum bit for bit, NaN, Inf, subnormals and -0.0 included;
//  - the level >= 1 schedule of the reduce kernels (level-1 runs per block, then in-place levels per
//    tensor, a one-block tensor taken as is) equals TreeAccumulator for block counts around 256^k;
//  - how warps split a group's blocks (every block exactly once) and find their tensor, zero-size
//    tensors included;
//  - the launch plan: grouping by (rule, dtype), block and run offsets, slots of AdEMAMix's two rows,
//    map pool indices, vector alignment;
//  - Note [step candidates]: candidate rows and their step counters as skippable steps pile up and
//    resolve;
//  - percentile clipping and the trust ratio (rules/norm_scales.hpp) against std::sort and std::min.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

extern "C" {
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
}

#include "core/algorithm.hpp"
#include "core/optimizer.hpp"
#include "core/param_state.hpp"
#include "core/rules/norm_scales.hpp"
#include "core/rules/reduce.hpp"
#include "core/step_scalars.hpp"
#include "core/tree_accumulator.hpp"
#include "cuda/block_ranges.hpp"
#include "cuda/device_steps.hpp"
#include "cuda/lane_tree.hpp"
#include "cuda/launch_plan.hpp"
#include "cuda/step_counters.hpp"
#include "cuda/step_inputs.hpp"

using namespace bnb;
using namespace bnb::cuda;

namespace {

uint64_t g_state = 0x9E3779B97F4A7C15ull;
uint64_t next_random() {
    g_state ^= g_state << 13;
    g_state ^= g_state >> 7;
    g_state ^= g_state << 17;
    return g_state;
}

// Random floats over many binades, with special values mixed in.
float random_float(int specials) {
    const uint64_t r = next_random();
    if (specials && r % 23 == 0) {
        const float special[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(), -0.0f, 1e-40f, -3e-39f};
        return special[(r >> 8) % 6];
    }
    const float mantissa = static_cast<float>((r >> 11) % 1000003) / 1000003.0f;
    const int exponent = static_cast<int>((r >> 40) % 60) - 30;
    return ((r >> 63) ? -1.0f : 1.0f) * std::ldexp(mantissa, exponent);
}

bool same_bits(float a, float b) { return float_to_bits(a) == float_to_bits(b) || (a != a && b != b); }

// Replays the warp's level-0 schedule: lane L holds elements lane_element(L, j).
float emulate_warp_tree(const float (&lanes)[kBlockSize]) {
    float y[kWarpSize][4];
    for (int lane = 0; lane < kWarpSize; ++lane) {
        float x[8];
        for (int j = 0; j < 8; ++j) x[j] = lanes[lane_element(lane, j)];
        tree_fold_halves(x, y[lane]);
    }
    for (int step = 0; step < kTreeShuffleSteps; ++step) {
        const int d = tree_shuffle_distance(step);
        float next[kWarpSize][4];
        for (int lane = 0; lane < kWarpSize; ++lane) {
            const int source = lane + d < kWarpSize ? lane + d : lane;  // __shfl_down_sync's rule
            for (int i = 0; i < 4; ++i) next[lane][i] = y[lane][i] + y[source][i];
        }
        std::memcpy(y, next, sizeof y);
    }
    return tree_finish(y[0]);
}

void warp_tree_equals_spec_tree(void**) {
    for (int trial = 0; trial < 20000; ++trial) {
        float lanes[kBlockSize];
        const int len = trial % 3 == 0 ? 1 + static_cast<int>(next_random() % kBlockSize) : kBlockSize;
        for (int i = 0; i < kBlockSize; ++i) lanes[i] = i < len ? random_float(trial % 2) : 0.0f;
        float copy[kBlockSize];
        std::memcpy(copy, lanes, sizeof copy);
        const float expected = tree_sum(copy);
        const float got = emulate_warp_tree(lanes);
        if (!same_bits(got, expected)) fail_msg("trial %d: warp tree %a, spec tree %a", trial, got, expected);
    }
    // Every element is used exactly once by the layout.
    std::vector<int> seen(kBlockSize, 0);
    for (int lane = 0; lane < kWarpSize; ++lane) {
        for (int j = 0; j < 8; ++j) ++seen[static_cast<size_t>(lane_element(lane, j))];
    }
    for (int count : seen) assert_int_equal(count, 1);
}

// The reduce kernels' schedule over `partials` (one per block): level-1 runs, then each tensor's runs in
// place, level after level (support_kernels.cu: reduce_runs_kernel, finish_kernel).
double emulate_reduce_kernels(std::vector<double> partials) {
    const int64_t blocks = static_cast<int64_t>(partials.size());
    if (blocks == 0) return 0.0;
    std::vector<double> runs(static_cast<size_t>(runs_of(blocks)));
    for (int64_t r = 0; r < runs_of(blocks); ++r) {
        if (blocks == 1) {
            runs[0] = partials[0];
            continue;
        }
        double x[kBlockSize];
        for (int t = 0; t < kBlockSize; ++t) {
            const int64_t i = r * kBlockSize + t;
            x[t] = i < blocks ? partials[static_cast<size_t>(i)] : 0.0;
        }
        runs[static_cast<size_t>(r)] = tree_sum(x);
    }
    int64_t count = runs_of(blocks);
    while (count > 1) {
        const int64_t next = runs_of(count);
        for (int64_t r = 0; r < next; ++r) {
            double x[kBlockSize];
            for (int t = 0; t < kBlockSize; ++t) {
                const int64_t i = r * kBlockSize + t;
                x[t] = i < count ? runs[static_cast<size_t>(i)] : 0.0;
            }
            runs[static_cast<size_t>(r)] = tree_sum(x);
        }
        count = next;
    }
    return runs[0];
}

void reduce_schedule_equals_accumulator(void**) {
    const int64_t counts[] = {0, 1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 65536 * 3 + 1, 300000};
    for (int64_t blocks : counts) {
        std::vector<double> partials(static_cast<size_t>(blocks));
        TreeAccumulator accumulator;
        for (double& p : partials) {
            const float f = std::fabs(random_float(0));
            p = static_cast<double>(f * f);
            accumulator.add(p);
        }
        const double expected = accumulator.finish();
        const double got = emulate_reduce_kernels(partials);
        if (std::memcmp(&got, &expected, sizeof got) != 0) {
            fail_msg("%lld blocks: kernels %a, accumulator %a", static_cast<long long>(blocks), got, expected);
        }
    }
}

DeviceTensor row(int64_t numel, int64_t block_begin, int64_t run_begin) {
    DeviceTensor t;
    std::memset(&t, 0, sizeof t);
    t.numel = numel;
    t.block_begin = block_begin;
    t.run_begin = run_begin;
    return t;
}

void warps_cover_every_block_once(void**) {
    // Tensors of 300, 0, 256, 0, 1 and 70000 elements: blocks 2, 0, 1, 0, 1, 274.
    const int64_t sizes[] = {300, 0, 256, 0, 1, 70000};
    std::vector<DeviceTensor> tensors;
    int64_t blocks = 0, runs = 0;
    for (int64_t n : sizes) {
        tensors.push_back(row(n, blocks, runs));
        blocks += num_blocks(n);
        runs += runs_of(num_blocks(n));
    }
    const int64_t count = static_cast<int64_t>(tensors.size());
    for (int64_t warps : {1, 3, 7, 64, 278, 1000}) {
        std::vector<int> hits(static_cast<size_t>(blocks), 0);
        for (int64_t w = 0; w < warps; ++w) {
            int64_t first = 0, end = 0;
            warp_block_range(blocks, warps, w, &first, &end);
            for (int64_t b = first; b < end; ++b) {
                ++hits[static_cast<size_t>(b)];
                const DeviceTensor& t = tensors[static_cast<size_t>(tensor_of_block(tensors.data(), count, b))];
                assert_true(t.block_begin <= b && b < t.block_begin + num_blocks(t.numel));
            }
        }
        for (int h : hits) assert_int_equal(h, 1);
    }
    for (int64_t r = 0; r < runs; ++r) {
        const DeviceTensor& t = tensors[static_cast<size_t>(tensor_of_run(tensors.data(), count, r))];
        assert_true(t.run_begin <= r && r < t.run_begin + runs_of(num_blocks(t.numel)));
    }
}

// A parameter entry over fake buffers, with host states of its first step.
struct FakeParam {
    ParamEntry entry;
    std::vector<char> param, grad;
};

void make_param(const AlgorithmTraits& algorithm, bnb_dtype dtype, int64_t numel, bnb_state_mode mode,
                size_t offset, FakeParam* out) {
    const int size = dtype == BNB_DTYPE_F32 ? 4 : 2;
    out->param.assign(static_cast<size_t>(numel * size) + 64, 0);
    out->grad.assign(static_cast<size_t>(numel * size) + 64, 0);
    char* p = out->param.data() + (64 - reinterpret_cast<uintptr_t>(out->param.data()) % 64) % 64;
    char* g = out->grad.data() + (64 - reinterpret_cast<uintptr_t>(out->grad.data()) % 64) % 64;
    out->entry.param = bnb_tensor{p + offset, numel, dtype, 0};
    out->entry.grad = bnb_tensor{g, numel, dtype, 0};
    out->entry.has_grad = true;
    Hparams h = algorithm.defaults;
    h.lr = 1e-3;
    h.momentum = 0.9;
    assert_int_equal(create_states(algorithm, mode, algorithm.states_for(h), false, numel, 0, &out->entry.states).code(),
                     BNB_OK);
}

void launch_plan_groups_and_offsets(void**) {
    const AlgorithmTraits& ademamix = *find_algorithm(BNB_ALGO_ADEMAMIX);
    FakeParam a, b, c, d, e;
    make_param(ademamix, BNB_DTYPE_F32, 1001, BNB_STATE_MODE_8BIT_BLOCKWISE, 0, &a);
    make_param(ademamix, BNB_DTYPE_BF16, 70000, BNB_STATE_MODE_32BIT, 0, &b);
    make_param(ademamix, BNB_DTYPE_F32, 0, BNB_STATE_MODE_8BIT_TENSORWISE, 0, &c);
    make_param(ademamix, BNB_DTYPE_F32, 513, BNB_STATE_MODE_32BIT, 4, &d);  // param misaligned for vectors
    make_param(ademamix, BNB_DTYPE_F32, 7, BNB_STATE_MODE_32BIT, 0, &e);
    e.entry.has_grad = false;
    const Options options;
    const std::vector<DeviceParam> params = {{0, &a.entry, {}, options}, {2, &b.entry, {}, options},
                                             {3, &c.entry, {}, options}, {5, &d.entry, {}, options},
                                             {6, &e.entry, {}, options}};
    LaunchPlan plan;
    assert_int_equal(build_launch_plan(ademamix, false, params, &plan).code(), BNB_OK);
    assert_int_equal(plan.groups.size(), 2);  // f32 and bf16; e has no gradient
    const GroupPlan& f32 = plan.groups[0];
    assert_int_equal(f32.dtype, BNB_DTYPE_F32);
    assert_int_equal(f32.tensors.size(), 3);
    assert_int_equal(f32.total_blocks, 4 + 0 + 3);
    assert_int_equal(f32.total_runs, 1 + 0 + 1);
    assert_true(f32.has_8bit && f32.has_tensorwise && !f32.has_clipping);
    assert_int_equal(f32.tensors[0].block_begin, 0);
    assert_int_equal(f32.tensors[1].block_begin, 4);
    assert_int_equal(f32.tensors[2].block_begin, 4);
    assert_int_equal(f32.tensors[2].param_index, 5);
    // AdEMAMix: m1 and m2 are two rows of state1 (codes n apart, absmax `blocks` apart), nu is state2.
    const DeviceTensor& t = f32.tensors[0];
    assert_ptr_equal(t.slot[0].codes, a.entry.states.codes[0].data());
    assert_ptr_equal(t.slot[1].codes, a.entry.states.codes[0].data() + 1001);
    assert_ptr_equal(t.slot[1].absmax, a.entry.states.absmax[0].data() + 4);
    assert_ptr_equal(t.slot[2].codes, a.entry.states.codes[1].data());
    assert_int_equal(t.slot[0].map, 0);  // signed
    assert_int_equal(t.slot[2].map, 1);  // unsigned
    assert_int_equal(t.vector_ok, 0);    // m2's codes start 1001 bytes in: no 4-byte vectors
    assert_int_equal(f32.tensors[2].vector_ok, 0);
    const GroupPlan& bf16 = plan.groups[1];
    assert_int_equal(bf16.tensors.size(), 1);
    assert_int_equal(bf16.total_blocks, 274);
    assert_int_equal(bf16.total_runs, 2);
    assert_false(bf16.has_8bit);
    assert_int_equal(bf16.tensors[0].vector_ok, 1);
    assert_int_equal(plan.maps.size(), 2);

    LaunchPlan again;
    assert_int_equal(build_launch_plan(ademamix, false, params, &again).code(), BNB_OK);
    assert_true(same_tables(plan, again));
    e.entry.has_grad = true;
    assert_int_equal(build_launch_plan(ademamix, false, params, &again).code(), BNB_OK);
    assert_false(same_tables(plan, again));
}

void rules_of_algorithms(void**) {
    const AlgorithmTraits& sgd = *find_algorithm(BNB_ALGO_SGD);
    assert_int_equal(static_cast<int>(rule_for(sgd, false, 0)), static_cast<int>(RuleId::kSgdPlain));
    assert_int_equal(static_cast<int>(rule_for(sgd, false, 1)), static_cast<int>(RuleId::kSgdMomentum));
    assert_int_equal(static_cast<int>(rule_for(sgd, true, 1)), static_cast<int>(RuleId::kSgdNesterov));
    assert_true(is_trust_ratio_rule(rule_for(*find_algorithm(BNB_ALGO_LAMB), false, 2)));
    assert_true(is_trust_ratio_rule(rule_for(*find_algorithm(BNB_ALGO_LARS), false, 1)));
    assert_false(is_trust_ratio_rule(rule_for(*find_algorithm(BNB_ALGO_ADAMW), false, 2)));
}

void step_candidates(void**) {
    const AlgorithmTraits& adam = *find_algorithm(BNB_ALGO_ADAM);
    FakeParam a, b;
    make_param(adam, BNB_DTYPE_F32, 10, BNB_STATE_MODE_32BIT, 0, &a);
    make_param(adam, BNB_DTYPE_F32, 10, BNB_STATE_MODE_32BIT, 0, &b);
    Hparams h = adam.defaults;
    a.entry.step = 4;
    b.entry.step = 9;
    const std::vector<DeviceParam> params = {{1, &a.entry, h, Options{}}, {3, &b.entry, h, Options{}}};
    StepCounters counters;
    StepInputs in = build_step_inputs(adam, params, counters, 4);
    assert_int_equal(in.params.size(), 4);
    assert_int_equal(in.params[0].rows, 0);  // not a CUDA parameter
    assert_int_equal(in.params[1].rows, 1);
    assert_int_equal(in.params[1].exact, 1);
    assert_int_equal(in.candidates[static_cast<size_t>(in.params[1].first_row)].t, 5);
    assert_int_equal(in.candidates[static_cast<size_t>(in.params[3].first_row)].t, 10);

    // Two skippable steps of both, then one of `a` alone, all unresolved.
    counters.push({1, 3}, 0);
    counters.push({1, 3}, 1);
    counters.push({1}, 2);
    in = build_step_inputs(adam, params, counters, 4);
    assert_int_equal(in.params[1].rows, 4);
    assert_int_equal(in.params[1].exact, 0);
    assert_int_equal(in.params[3].rows, 3);
    for (int r = 0; r < 4; ++r) {
        const StepScalars& k = in.candidates[static_cast<size_t>(in.params[1].first_row + r)];
        const StepScalars expected = compute_step_scalars(adam, h, 5 + r, 1.0f);
        assert_int_equal(k.t, 5 + r);
        assert_memory_equal(&k.ic1, &expected.ic1, sizeof(float));
        assert_memory_equal(&k.ic2, &expected.ic2, sizeof(float));
    }
    // The oldest resolves applied: its participants advance, one unknown less.
    assert_int_equal(counters.oldest_slot(), 0);
    for (int64_t index : counters.pop()) (index == 1 ? a : b).entry.step += 1;
    in = build_step_inputs(adam, params, counters, 4);
    assert_int_equal(in.params[1].t_lo, 5);
    assert_int_equal(in.params[1].rows, 3);
    assert_int_equal(in.params[3].t_lo, 10);
    assert_int_equal(in.params[3].rows, 2);
    counters.pop();  // skipped: counters stay
    counters.pop();
    assert_true(counters.empty());
    in = build_step_inputs(adam, params, counters, 4);
    assert_int_equal(in.params[1].rows, 1);
    assert_int_equal(in.params[1].exact, 1);
    assert_int_equal(in.participants.size(), 2);
}

float reference_clipping(std::vector<float>& history, int64_t t, float q, int percentile) {
    const size_t slot = static_cast<size_t>(t % kClipHistory);
    if (t == 1) {
        std::fill(history.begin(), history.end(), q);
    } else {
        history[slot] = q;
    }
    std::vector<float> sorted = history;
    std::sort(sorted.begin(), sorted.end());
    const double current = std::sqrt(static_cast<double>(history[slot]));
    const double clip = std::sqrt(static_cast<double>(sorted[static_cast<size_t>(percentile)]));
    return current > clip ? static_cast<float>(clip / current) : 1.0f;
}

void norm_scales_match_references(void**) {
    for (int percentile : {0, 5, 50, 99}) {
        std::vector<float> reference(kClipHistory, 0.0f);
        float history[kClipHistory] = {};
        for (int64_t t = 1; t <= 300; ++t) {
            const float q = std::fabs(random_float(0)) * static_cast<float>(1 + t % 7);
            const float expected = reference_clipping(reference, t, q, percentile);
            const float got = clipping_scale(history, t, q, percentile);
            assert_memory_equal(&got, &expected, sizeof got);
            assert_memory_equal(history, reference.data(), sizeof history);
        }
    }
    for (int trial = 0; trial < 10000; ++trial) {
        const double max_unorm = trial % 10 == 0 ? 0.0 : std::fabs(random_float(0));
        const double p = trial % 13 == 0 ? 0.0 : std::fabs(random_float(0));
        const double u = trial % 11 == 0 ? 0.0 : std::fabs(random_float(0));
        const double pn = std::sqrt(p), un = std::sqrt(u);
        const double expected = (max_unorm == 0.0 || un == 0.0) ? 1.0 : std::min(1.0, max_unorm * pn / un);
        const double got = trust_ratio_scale(max_unorm, p, u);
        assert_memory_equal(&got, &expected, sizeof got);
    }
    assert_true(trust_ratio_scale(1.0, std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::infinity()) == 1.0);  // NaN ratio: 1, as std::min
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(warp_tree_equals_spec_tree),
        cmocka_unit_test(reduce_schedule_equals_accumulator),
        cmocka_unit_test(warps_cover_every_block_once),
        cmocka_unit_test(launch_plan_groups_and_offsets),
        cmocka_unit_test(rules_of_algorithms),
        cmocka_unit_test(step_candidates),
        cmocka_unit_test(norm_scales_match_references),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
