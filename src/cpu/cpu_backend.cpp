#include "cpu_backend.hpp"

#include <algorithm>
#include <atomic>

#include "core/clipping.hpp"
#include "core/tree_accumulator.hpp"
#include "isa.hpp"
#include "rules/convert.hpp"
#include "rules/element.hpp"
#include "rules/reduce.hpp"
#include "select_table.hpp"
#include "thread_pool.hpp"

namespace bnb {
namespace cpu {
namespace {

// Below this many blocks per thread (8K elements) another thread costs more than it saves.
constexpr int64_t kMinBlocksPerThread = 32;
// Pre-pass runs (256 blocks each) whose results are held at once; a step folds them window by window.
constexpr int64_t kRunWindow = 512;

// Fills the working fields of one ParamStep.
void prepare(ParamStep& s, const KernelTable& table) {
    const RuleId id = rule_id_for(s.rule.algorithm->id, s.rule.stateful, s.rule.nesterov);
    s.kernels = table.kernels[static_cast<int>(id)][s.view.dtype - 1];
    const int slots = s.kernels.slots;
    PassArgs& a = s.args;
    a = PassArgs{};
    a.view = s.view;
    if (slots == 0) a.view.mode = BNB_STATE_MODE_32BIT;  // no states to store in any mode
    a.k = s.scalars;
    const bool tensorwise = a.view.mode == BNB_STATE_MODE_8BIT_TENSORWISE;
    const bool quantized = tensorwise || a.view.mode == BNB_STATE_MODE_8BIT_BLOCKWISE;
    for (int j = 0; j < slots && quantized; ++j) {
        a.select[j] = select_table_for(a.view.rows[j].tables);
        if (tensorwise) a.old_absmax[j] = a.view.rows[j].absmax[0];
    }
    a.norms = is_trust_ratio_rule(id) && a.view.max_unorm > 0.0;
    s.blocks = num_blocks(a.view.numel);
    s.pre_pass = tensorwise || a.norms;
    s.outcome = StepOutcome();
}

int64_t runs_of(const ParamStep& s) { return s.pre_pass ? (s.blocks + kReduceWidth - 1) / kReduceWidth : 0; }

// Worker w's share [begin, end) of `total` items split evenly over `workers`.
void share(int64_t total, int workers, int w, int64_t* begin, int64_t* end) {
    *begin = total * w / workers;
    *end = total * (w + 1) / workers;
}

// The update pass: the blocks of all parameters, end to end, split into one contiguous range per worker.
class UpdateTask final : public ParallelTask {
public:
    UpdateTask(ParamStep* steps, size_t count, int64_t total, int workers)
        : steps_(steps), count_(count), total_(total), workers_(workers) {}

    void run(int worker) override {
        int64_t begin = 0, end = 0;
        share(total_, workers_, worker, &begin, &end);
        int64_t offset = 0;  // global index of steps_[i]'s first block
        for (size_t i = 0; i < count_ && offset < end; offset += steps_[i].blocks, ++i) {
            ParamStep& s = steps_[i];
            const int64_t first = std::max(begin, offset) - offset, last = std::min(end, offset + s.blocks) - offset;
            if (first >= last) continue;
            const int64_t nonfinite = s.kernels.update(s.args, first, last);
            __atomic_fetch_add(&s.outcome.nonfinite, nonfinite, __ATOMIC_RELAXED);
        }
    }

private:
    ParamStep* steps_;
    size_t count_;
    int64_t total_;
    int workers_;
};

// The pre-pass over the runs [window, window + size) of the pre-pass parameters' runs, end to end.
class PrePassTask final : public ParallelTask {
public:
    PrePassTask(ParamStep* steps, size_t count, int64_t window, int64_t size, int workers, RunResult* results)
        : steps_(steps), count_(count), window_(window), size_(size), workers_(workers), results_(results) {}

    void run(int worker) override {
        int64_t begin = 0, end = 0;
        share(size_, workers_, worker, &begin, &end);
        begin += window_;
        end += window_;
        int64_t offset = 0;  // global index of steps_[i]'s first run
        for (size_t i = 0; i < count_ && offset < end; offset += runs_of(steps_[i]), ++i) {
            const ParamStep& s = steps_[i];
            for (int64_t r = std::max(begin, offset); r < std::min(end, offset + runs_of(s)); ++r) {
                const int64_t first = (r - offset) * kReduceWidth;
                s.kernels.pre_pass(s.args, first, std::min(s.blocks, first + kReduceWidth), &results_[r - window_]);
            }
        }
    }

private:
    ParamStep* steps_;
    size_t count_;
    int64_t window_, size_;
    int workers_;
    RunResult* results_;
};

int workers_for(int64_t blocks, int threads) {
    const int64_t useful = std::max<int64_t>(1, blocks / kMinBlocksPerThread);
    return static_cast<int>(std::min<int64_t>(threads, useful));
}

// Runs the pre-pass of every parameter that needs one and applies its results: tensor-wise scales, and
// the trust ratio with lrs = fl32(lr * ratio). Runs are reduced in windows; each parameter's run sums
// enter §7.1's tree in order, so the result is the serial one.
void run_pre_passes(ParamStep* steps, size_t count, int threads) {
    int64_t total = 0;
    for (size_t i = 0; i < count; ++i) total += runs_of(steps[i]);
    if (total == 0) return;
    RunResult results[kRunWindow];
    TreeAccumulator p_norm, u_norm;
    float absmax[kMaxSlots] = {};
    size_t current = 0;        // the parameter whose runs are being folded
    int64_t current_first = 0;  // global index of its first run
    while (current < count && runs_of(steps[current]) == 0) ++current;
    for (int64_t window = 0; window < total; window += kRunWindow) {
        const int64_t size = std::min(kRunWindow, total - window);
        PrePassTask task(steps, count, window, size, workers_for(size * kReduceWidth, threads), results);
        run_parallel(workers_for(size * kReduceWidth, threads), task);
        for (int64_t r = window; r < window + size; ++r) {
            ParamStep& s = steps[current];
            const RunResult& run = results[r - window];
            for (int j = 0; j < kMaxSlots; ++j) absmax[j] = absmax_accumulate(absmax[j], run.absmax[j]);
            p_norm.add(run.p_sq);
            u_norm.add(run.u_sq);
            if (r - current_first + 1 < runs_of(s)) continue;
            // The parameter's last run: apply, then move to the next parameter with a pre-pass.
            for (int j = 0; j < kMaxSlots; ++j) s.args.tensor_scale[j] = block_scale(absmax[j]);
            if (s.args.norms) {
                const double p_sq = p_norm.finish(), u_sq = u_norm.finish();
                s.outcome.trust_ratio = trust_ratio(s.args.view.max_unorm, p_sq, u_sq);
                s.outcome.update_sq_norm = u_sq;
                s.args.k.lrs = static_cast<float>(s.args.view.lr * s.outcome.trust_ratio);
            }
            p_norm = TreeAccumulator();
            u_norm = TreeAccumulator();
            std::fill(absmax, absmax + kMaxSlots, 0.0f);
            current_first = r + 1;
            ++current;
            while (current < count && runs_of(steps[current]) == 0) ++current;
        }
    }
}

std::atomic<const KernelTable*> g_kernels_override{nullptr};

}  // namespace

void set_kernels_for_testing(const KernelTable* table) { g_kernels_override.store(table, std::memory_order_relaxed); }

const KernelTable& kernels_for(Isa isa) {
    switch (isa) {
#if defined(BNB_HAVE_AVX512_KERNELS)
        case Isa::kAvx512: return kAvx512Kernels;
        case Isa::kAvx512Vbmi: return kAvx512VbmiKernels;
#endif
#if defined(BNB_HAVE_AVX2_KERNELS)
        case Isa::kAvx2: return kAvx2Kernels;
#endif
        default: return kScalarKernels;
    }
}

void step_params(ParamStep* steps, size_t count, int32_t num_threads) {
    const KernelTable* forced = g_kernels_override.load(std::memory_order_relaxed);
    const KernelTable& table = forced != nullptr ? *forced : kernels_for(active_isa());
    int64_t total = 0;
    for (size_t i = 0; i < count; ++i) {
        prepare(steps[i], table);
        total += steps[i].blocks;
    }
    const int threads = resolve_thread_count(num_threads);
    run_pre_passes(steps, count, threads);
    const int workers = workers_for(total, threads);
    UpdateTask task(steps, count, total, workers);
    run_parallel(workers, task);
    for (size_t i = 0; i < count; ++i) {
        ParamStep& s = steps[i];
        // Tensor-wise codes were dequantized with the old absmax, so it is replaced only now.
        if (s.args.view.mode != BNB_STATE_MODE_8BIT_TENSORWISE) continue;
        for (int j = 0; j < s.kernels.slots; ++j) s.args.view.rows[j].absmax[0] = s.args.tensor_scale[j].absmax;
    }
}

StepOutcome step_param(const RuleChoice& rule, const ParamStepView& view, const StepScalars& scalars) {
    ParamStep s{};
    s.rule = rule;
    s.view = view;
    s.scalars = scalars;
    step_params(&s, 1, 1);
    return s.outcome;
}

namespace {

template <class T>
int64_t count_nonfinite_typed(const T* g, int64_t n) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += is_usable_bits(load_elem(g[i])) ? 0 : 1;
    return count;
}

template <class T>
float gradient_sq_norm_typed(const T* g, int64_t n) {
    TreeAccumulator sum;
    float lanes[kReduceWidth];
    for (int64_t b = 0; b < num_blocks(n); ++b) {
        const int len = static_cast<int>(std::min<int64_t>(kBlockSize, n - b * kBlockSize));
        for (int i = 0; i < len; ++i) {
            const float x = load_elem(g[b * kBlockSize + i]);
            lanes[i] = is_usable_bits(x) ? x * x : 0.0f;
        }
        std::fill(lanes + len, lanes + kReduceWidth, 0.0f);
        sum.add(static_cast<double>(tree_sum(lanes)));
    }
    return static_cast<float>(sum.finish());
}

}  // namespace

int64_t count_nonfinite(const void* grad, bnb_dtype dtype, int64_t numel) {
    switch (dtype) {
        case BNB_DTYPE_F32: return count_nonfinite_typed(static_cast<const float*>(grad), numel);
        case BNB_DTYPE_F16: return count_nonfinite_typed(static_cast<const f16_t*>(grad), numel);
        case BNB_DTYPE_BF16: return count_nonfinite_typed(static_cast<const bf16_t*>(grad), numel);
    }
    return 0;
}

float gradient_sq_norm(const void* grad, bnb_dtype dtype, int64_t numel) {
    switch (dtype) {
        case BNB_DTYPE_F32: return gradient_sq_norm_typed(static_cast<const float*>(grad), numel);
        case BNB_DTYPE_F16: return gradient_sq_norm_typed(static_cast<const f16_t*>(grad), numel);
        case BNB_DTYPE_BF16: return gradient_sq_norm_typed(static_cast<const bf16_t*>(grad), numel);
    }
    return 0.0f;
}

}  // namespace cpu
}  // namespace bnb
