#include "step_inputs.hpp"

#include <cstring>

#include "core/step_scalars.hpp"
#include "device_steps.hpp"

namespace bnb {
namespace cuda {

StepInputs build_step_inputs(const AlgorithmTraits& algorithm, const std::vector<DeviceParam>& params,
                             const StepCounters& counters, int64_t slots) {
    StepInputs out;
    StepParam idle;
    std::memset(&idle, 0, sizeof idle);
    out.params.assign(static_cast<size_t>(slots), idle);
    for (const DeviceParam& p : params) {
        if (!p.entry->has_grad) continue;
        const int64_t unknown = counters.unknown(p.index);
        StepParam& s = out.params[static_cast<size_t>(p.index)];
        s.lr = p.hparams.lr;
        s.max_unorm = p.hparams.max_unorm;
        s.t_lo = p.entry->step;
        s.rows = static_cast<int32_t>(unknown + 1);
        s.exact = unknown == 0 ? 1 : 0;
        s.first_row = static_cast<int32_t>(out.candidates.size());
        s.skip_zeros = p.options.skip_zeros ? 1 : 0;
        s.percentile = p.options.percentile_clipping;
        s.norms = algorithm.trust_ratio && p.hparams.max_unorm > 0.0 ? 1 : 0;
        for (int64_t r = 0; r <= unknown; ++r) {
            out.candidates.push_back(compute_step_scalars(algorithm, p.hparams, s.t_lo + 1 + r, 1.0f));
        }
        out.participants.push_back(p.index);
    }
    return out;
}

}  // namespace cuda
}  // namespace bnb
