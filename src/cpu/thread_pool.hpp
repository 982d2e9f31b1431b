// Note [CPU threads]: a step's work is split on 256-element block boundaries and run by a persistent
// pool of worker threads, created at the first step that wants them (never a thread per step, and none
// at all with one thread). Every block's result depends only on its own inputs and reductions combine
// per-block results in a fixed order, so the thread count never changes a bit of the result; it only
// decides how fast the step is.
#pragma once

#include <cstdint>

namespace bnb {
namespace cpu {

// The thread count a step uses for `configured` (bnb_optimizer_config.num_threads): itself when > 0;
// for 0, the BNB8_NUM_THREADS environment variable when it holds an integer in [1, 1024], else the
// number of CPUs this process may run on. Always in [1, 1024].
int resolve_thread_count(int32_t configured);

// A task run by `workers` threads at once: run(worker) with worker in [0, workers).
class ParallelTask {
public:
    virtual void run(int worker) = 0;

protected:
    ~ParallelTask() = default;
};

// Runs task.run(w) for every w in [0, workers) and returns when all have finished; worker 0 runs on the
// calling thread. The pool's threads are created on first use and kept for the process (a forked child
// starts a pool of its own). Concurrent calls from different threads take turns. If threads cannot be
// created, the calling thread runs every worker index itself: slower, never wrong.
void run_parallel(int workers, ParallelTask& task);

}  // namespace cpu
}  // namespace bnb
