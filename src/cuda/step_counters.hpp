// Note [step candidates]: a step of CUDA parameters that the device may skip (AMP found-inf flag,
// skip_step_on_nonfinite) leaves the host unsure of their step counters t until it reads the decision
// back, and bnb_step() must not wait for that. The per-step scalars depend on t through pow() (bias
// corrections, schedulers), which only the host computes (ALGORITHMS.md §1.3). So for a parameter that
// took part in u skippable steps whose outcome is unknown, the host uploads u + 1 candidate rows of
// scalars, for t = t_lo + 1 ... t_lo + 1 + u, where t_lo is its counter counting only the steps known to
// be applied; the device, which keeps the true counter, picks the row. Decisions come back through
// pinned memory and are resolved in order whenever their step has finished, so u stays small; with 8
// unresolved skippable steps, the host waits for the oldest.
//
// StepCounters is that bookkeeping, apart from CUDA so it is tested on the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace bnb {
namespace cuda {

class StepCounters {
public:
    // Unknown outcomes a parameter is waiting for (u above).
    int64_t unknown(int64_t index) const;

    // A skippable step, enqueued; `slot` identifies where its decision will appear.
    void push(std::vector<int64_t> participants, int slot);
    bool empty() const { return pending_.empty(); }
    size_t size() const { return pending_.size(); }
    int oldest_slot() const { return pending_.front().slot; }

    // Resolves the oldest pending step; returns its participants. The caller advances their counters
    // when it was applied.
    std::vector<int64_t> pop();

private:
    struct Pending {
        std::vector<int64_t> participants;
        int slot;
    };
    std::deque<Pending> pending_;
    std::vector<int64_t> unknown_;  // by parameter index
};

}  // namespace cuda
}  // namespace bnb
