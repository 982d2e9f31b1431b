#include "thread_pool.hpp"

#include <sched.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "core/fp_env.hpp"

namespace bnb {
namespace cpu {
namespace {

constexpr int kMaxThreads = 1024;

int usable_cpus() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware > 0 ? static_cast<int>(hardware) : 1;
}

int env_thread_count() {
    const char* value = std::getenv("BNB8_NUM_THREADS");
    if (value == nullptr) return 0;
    char* end = nullptr;
    const long count = std::strtol(value, &end, 10);
    if (end == value || *end != '\0' || count < 1 || count > kMaxThreads) return 0;
    return static_cast<int>(count);
}

// Workers sleep on a condition variable between tasks; a task is announced by bumping `generation_`.
class ThreadPool {
public:
    ~ThreadPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : threads_) t.join();
    }

    void run(int workers, ParallelTask& task) {
        std::lock_guard<std::mutex> turn(turn_);
        const int helpers = grow(workers - 1);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            task_ = &task;
            active_ = helpers;
            pending_ = helpers;
            ++generation_;
        }
        wake_.notify_all();
        // Worker indices the pool could not cover run here, after index 0.
        task.run(0);
        for (int w = helpers + 1; w < workers; ++w) task.run(w);
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        task_ = nullptr;
    }

private:
    // Starts threads until `wanted` exist (or creation fails); returns how many exist.
    int grow(int wanted) {
        uint64_t current = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            current = generation_;
        }
        while (static_cast<int>(threads_.size()) < wanted) {
            try {
                threads_.emplace_back(&ThreadPool::loop, this, static_cast<int>(threads_.size()) + 1, current);
            } catch (const std::system_error&) {
                break;
            }
        }
        return static_cast<int>(threads_.size()) < wanted ? static_cast<int>(threads_.size()) : wanted;
    }

    // `seen`: the generation current when the thread was made; it waits for the next one.
    void loop(int index, uint64_t seen) {
        for (;;) {
            ParallelTask* task = nullptr;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
                if (index > active_) continue;
                task = task_;
            }
            {
                FpEnvGuard fp_env;  // Note [floating-point environment]: per thread
                task->run(index);
            }
            std::lock_guard<std::mutex> lock(mutex_);
            if (--pending_ == 0) done_.notify_one();
        }
    }

    std::mutex turn_;  // one task at a time
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    std::vector<std::thread> threads_;
    ParallelTask* task_ = nullptr;
    uint64_t generation_ = 0;
    int active_ = 0;
    int pending_ = 0;
    bool stopping_ = false;
};

// The process's pool. A forked child inherits the object but not the threads, so it makes its own and
// abandons the parent's (whose threads do not exist in the child and must not be joined).
ThreadPool& process_pool() {
    static std::mutex mutex;
    static ThreadPool* pool = nullptr;
    static pid_t owner = 0;
    static struct Reaper {
        ~Reaper() {
            if (pool != nullptr && owner == getpid()) delete pool;
        }
    } reaper;
    std::lock_guard<std::mutex> lock(mutex);
    if (pool == nullptr || owner != getpid()) {
        pool = new ThreadPool();
        owner = getpid();
    }
    return *pool;
}

}  // namespace

int resolve_thread_count(int32_t configured) {
    int count = configured > 0 ? configured : env_thread_count();
    if (count <= 0) count = usable_cpus();
    return count < 1 ? 1 : (count > kMaxThreads ? kMaxThreads : count);
}

void run_parallel(int workers, ParallelTask& task) {
    if (workers <= 1) {
        task.run(0);
        return;
    }
    process_pool().run(workers, task);
}

}  // namespace cpu
}  // namespace bnb
