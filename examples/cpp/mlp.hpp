// mlp.hpp -- a multi-layer perceptron on a Backend: dense layers with tanh between them and a linear
// output layer, its forward pass and its backward pass. The weight and bias gradients it writes are what
// bnb8 reads in bnb_step().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend.hpp"
#include "rng.hpp"

namespace trainer {

// A host copy of one layer's weights (n_in rows of n_out, row-major) and biases.
struct HostLayer {
    int n_in = 0;
    int n_out = 0;
    std::vector<float> w;
    std::vector<float> b;
};
using HostWeights = std::vector<HostLayer>;

// Layer widths sizes[0] -> sizes[1] -> ... Weights are N(0, first_gain^2 / fan_in) in the first layer and
// N(0, 1 / fan_in) after it (LeCun initialisation, which suits tanh); biases N(0, bias_std^2).
HostWeights random_weights(const std::vector<int>& sizes, double first_gain, double bias_std, Rng& rng);

// One dense layer y = x W + b and the gradients of its weights and biases (same shapes).
struct Layer {
    int n_in = 0;
    int n_out = 0;
    Buffer w, b, grad_w, grad_b;
};

class Mlp {
public:
    // Buffers for passes over up to max_rows samples; the weights are copies of `weights`.
    Mlp(Backend& backend, const HostWeights& weights, int max_rows);

    // The outputs (rows x outputs()) for the inputs x (rows x inputs(), a buffer of the same backend that
    // must stay unchanged until backward()); valid until the next forward pass.
    const float* forward(const float* x, int rows);
    // Where the caller puts d loss / d outputs of the last forward pass before backward().
    float* output_gradient() { return deltas_.back().data(); }
    // Overwrites every weight and bias gradient (no accumulation across steps).
    void backward(int rows);

    std::vector<Layer>& layers() { return layers_; }
    const std::vector<Layer>& layers() const { return layers_; }
    int inputs() const { return layers_.front().n_in; }
    int outputs() const { return layers_.back().n_out; }
    int max_rows() const { return max_rows_; }
    int64_t parameter_count() const;
    std::string shape() const;  // e.g. "64 -> 384 (tanh) -> 384 (tanh) -> 16"

private:
    Backend& backend_;
    int max_rows_;
    std::vector<Layer> layers_;
    std::vector<Buffer> activations_;  // [l]: output of layer l, after tanh for hidden layers
    std::vector<Buffer> deltas_;       // [l]: d loss / d (pre-activation) output of layer l
    const float* input_ = nullptr;     // the inputs of the last forward pass
};

}  // namespace trainer
