// task.cpp -- the teacher, the held-out set and the minibatches of train_mlp's task.
#include "task.hpp"

#include <algorithm>
#include <cstddef>

namespace trainer {
namespace {

// Independent random streams of one seed, so that e.g. --steps does not change the held-out set.
enum RngStream : uint64_t { kStreamTeacher = 1, kStreamStudent = 2, kStreamData = 3, kStreamHeldout = 4 };

constexpr double kTeacherGain = 1.5;  // scales the teacher's first layer so its tanh is clearly non-linear
constexpr double kTeacherBiasStd = 0.1;  // targets not centred exactly on zero

HostWeights teacher_weights(uint64_t seed) {
    Rng rng(seed, kStreamTeacher);
    return random_weights({kInputs, kTeacherHidden, kOutputs}, kTeacherGain, kTeacherBiasStd, rng);
}

size_t elements(int rows, int width) { return static_cast<size_t>(rows) * static_cast<size_t>(width); }

}  // namespace

Task::Task(Backend& backend, uint64_t seed, int batch_rows)
    : backend_(backend), teacher_(backend, teacher_weights(seed), batch_rows), data_rng_(seed, kStreamData) {
    heldout_.rows = kHeldoutRows;
    heldout_.x = Buffer(backend, elements(kHeldoutRows, kInputs));
    heldout_.y = Buffer(backend, elements(kHeldoutRows, kOutputs));
    Rng heldout_rng(seed, kStreamHeldout);
    make_samples(heldout_rng, &heldout_);

    batch_.rows = batch_rows;
    batch_.x = Buffer(backend, elements(batch_rows, kInputs));
    batch_.y = Buffer(backend, elements(batch_rows, kOutputs));
}

void Task::next_batch() { make_samples(data_rng_, &batch_); }

void Task::make_samples(Rng& rng, Dataset* data) {
    host_.resize(elements(data->rows, kInputs));
    rng.fill_normal(host_.data(), host_.size(), 1.0);
    backend_.upload(data->x.data(), host_.data(), host_.size());
    for (int r0 = 0; r0 < data->rows; r0 += teacher_.max_rows()) {
        const int n = std::min(data->rows - r0, teacher_.max_rows());
        const float* out = teacher_.forward(data->x.data() + elements(r0, kInputs), n);
        backend_.copy(data->y.data() + elements(r0, kOutputs), out, elements(n, kOutputs));
    }
}

double Task::evaluate(Mlp& net) {
    double sum = 0.0;
    for (int r0 = 0; r0 < heldout_.rows; r0 += net.max_rows()) {
        const int n = std::min(heldout_.rows - r0, net.max_rows());
        const float* out = net.forward(heldout_.x.data() + elements(r0, kInputs), n);
        sum += backend_.squared_error_sum(out, heldout_.y.data() + elements(r0, kOutputs), elements(n, kOutputs));
    }
    return sum / static_cast<double>(elements(heldout_.rows, kOutputs));
}

HostWeights student_weights(uint64_t seed, int hidden, int layers) {
    std::vector<int> sizes{kInputs};
    sizes.insert(sizes.end(), static_cast<size_t>(layers), hidden);
    sizes.push_back(kOutputs);
    Rng rng(seed, kStreamStudent);
    return random_weights(sizes, 1.0, 0.0, rng);
}

}  // namespace trainer
