// task.hpp -- the teacher-student regression train_mlp learns: a fixed, randomly initialised teacher MLP
// maps Gaussian inputs to targets; the student learns to imitate it by minimising the mean squared error.
// The data lives on the backend; the random numbers come from the program's own generator.
#pragma once

#include <cstdint>
#include <vector>

#include "backend.hpp"
#include "mlp.hpp"
#include "rng.hpp"

namespace trainer {

constexpr int kInputs = 64;          // input features
constexpr int kOutputs = 16;         // regression targets
constexpr int kTeacherHidden = 256;  // teacher: 64 -> 256 (tanh) -> 16, smaller than the student
constexpr int kHeldoutRows = 2048;   // fixed held-out samples the loss table is computed on

// Inputs (rows x kInputs) and the teacher's outputs for them (rows x kOutputs).
struct Dataset {
    int rows = 0;
    Buffer x, y;
};

class Task {
public:
    // Minibatches of batch_rows samples; the teacher and the held-out set depend on the seed only.
    Task(Backend& backend, uint64_t seed, int batch_rows);

    void next_batch();  // draws fresh inputs from the data stream into batch()
    const Dataset& batch() const { return batch_; }
    // Mean squared error of `net` over the held-out set (forward passes of net.max_rows() samples).
    double evaluate(Mlp& net);
    const Mlp& teacher() const { return teacher_; }

private:
    void make_samples(Rng& rng, Dataset* data);

    Backend& backend_;
    Mlp teacher_;
    Dataset heldout_;
    Dataset batch_;
    Rng data_rng_;             // the stream the minibatches are drawn from
    std::vector<float> host_;  // host staging of the inputs
};

// The student's initial weights, 64 -> hidden (tanh) -> ... (layers hidden layers) -> 16, which both
// runs copy.
HostWeights student_weights(uint64_t seed, int hidden, int layers);

}  // namespace trainer
