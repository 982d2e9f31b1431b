// Levels >= 1 of the deterministic reduction R (ALGORITHMS.md §7.1), streamed: block partials arrive
// in order, consecutive runs of 256 are reduced by the fixed tree in double as soon as they are
// complete, and finish() reduces the incomplete runs (padded with 0.0) level by level until one value
// is left. The grouping is exactly the batch algorithm's, without allocating.
#pragma once

#include <cstdint>

#include "rules/reduce.hpp"

namespace bnb {

class TreeAccumulator {
public:
    void add(double block_partial) { push(0, block_partial); }

    // R of every partial added (0 when none was).
    double finish() {
        for (int level = 0; level < kLevels; ++level) {
            if (counts_[level] == 0) continue;
            bool higher = false;
            for (int above = level + 1; above < kLevels; ++above) higher = higher || counts_[above] > 0;
            if (!higher && counts_[level] == 1) return runs_[level][0];
            for (int i = counts_[level]; i < kReduceWidth; ++i) runs_[level][i] = 0.0;
            counts_[level] = 0;
            push(level + 1, tree_sum(runs_[level]));
        }
        return 0.0;
    }

private:
    static constexpr int kLevels = 8;  // 256^8 blocks: far beyond any tensor

    void push(int level, double value) {
        runs_[level][counts_[level]++] = value;
        if (counts_[level] == kReduceWidth) {
            counts_[level] = 0;
            push(level + 1, tree_sum(runs_[level]));
        }
    }

    double runs_[kLevels][kReduceWidth];
    int counts_[kLevels] = {};
};

}  // namespace bnb
