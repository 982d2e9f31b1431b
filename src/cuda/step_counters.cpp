#include "step_counters.hpp"

#include <utility>

namespace bnb {
namespace cuda {

int64_t StepCounters::unknown(int64_t index) const {
    return index < static_cast<int64_t>(unknown_.size()) ? unknown_[static_cast<size_t>(index)] : 0;
}

void StepCounters::push(std::vector<int64_t> participants, int slot) {
    for (int64_t index : participants) {
        if (index >= static_cast<int64_t>(unknown_.size())) unknown_.resize(static_cast<size_t>(index) + 1, 0);
        ++unknown_[static_cast<size_t>(index)];
    }
    pending_.push_back(Pending{std::move(participants), slot});
}

std::vector<int64_t> StepCounters::pop() {
    Pending oldest = std::move(pending_.front());
    pending_.pop_front();
    for (int64_t index : oldest.participants) --unknown_[static_cast<size_t>(index)];
    return std::move(oldest.participants);
}

}  // namespace cuda
}  // namespace bnb
