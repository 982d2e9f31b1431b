// mlp.cpp -- forward and backward passes of the MLP as matrix products on a Backend.
#include "mlp.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "errors.hpp"

namespace trainer {
namespace {

size_t product(int a, int b) { return static_cast<size_t>(a) * static_cast<size_t>(b); }

}  // namespace

HostWeights random_weights(const std::vector<int>& sizes, double first_gain, double bias_std, Rng& rng) {
    HostWeights weights(sizes.size() - 1);
    for (size_t l = 0; l < weights.size(); ++l) {
        HostLayer& layer = weights[l];
        layer.n_in = sizes[l];
        layer.n_out = sizes[l + 1];
        layer.w.resize(product(layer.n_in, layer.n_out));
        layer.b.resize(static_cast<size_t>(layer.n_out));
        const double gain = l == 0 ? first_gain : 1.0;
        rng.fill_normal(layer.w.data(), layer.w.size(), gain / std::sqrt(static_cast<double>(layer.n_in)));
        rng.fill_normal(layer.b.data(), layer.b.size(), bias_std);
    }
    return weights;
}

Mlp::Mlp(Backend& backend, const HostWeights& weights, int max_rows) : backend_(backend), max_rows_(max_rows) {
    for (const HostLayer& host : weights) {
        Layer layer;
        layer.n_in = host.n_in;
        layer.n_out = host.n_out;
        layer.w = Buffer(backend, host.w.size());
        layer.b = Buffer(backend, host.b.size());
        layer.grad_w = Buffer(backend, host.w.size());
        layer.grad_b = Buffer(backend, host.b.size());
        backend.upload(layer.w.data(), host.w.data(), host.w.size());
        backend.upload(layer.b.data(), host.b.data(), host.b.size());
        activations_.emplace_back(backend, product(max_rows, host.n_out));
        deltas_.emplace_back(backend, product(max_rows, host.n_out));
        layers_.push_back(std::move(layer));
    }
}

const float* Mlp::forward(const float* x, int rows) {
    if (rows < 1 || rows > max_rows_) {
        throw Error("Mlp::forward: " + std::to_string(rows) + " rows, buffers hold 1 to " + std::to_string(max_rows_));
    }
    input_ = x;
    const float* in = x;
    for (size_t l = 0; l < layers_.size(); ++l) {
        const Layer& layer = layers_[l];
        float* out = activations_[l].data();
        backend_.gemm(false, false, rows, layer.n_out, layer.n_in, in, layer.w.data(), 0.0f, out);
        backend_.add_bias(out, layer.b.data(), rows, layer.n_out, l + 1 < layers_.size());
        in = out;
    }
    return in;
}

void Mlp::backward(int rows) {
    for (size_t l = layers_.size(); l-- > 0;) {
        Layer& layer = layers_[l];
        const float* delta = deltas_[l].data();                          // rows x n_out
        const float* input = l == 0 ? input_ : activations_[l - 1].data();  // rows x n_in

        backend_.column_sums(delta, rows, layer.n_out, layer.grad_b.data());
        // grad_w (n_in x n_out) = input^T (n_in x rows) * delta (rows x n_out).
        backend_.gemm(true, false, layer.n_in, layer.n_out, rows, input, delta, 0.0f, layer.grad_w.data());
        if (l == 0) break;  // nobody needs the gradient with respect to the data

        // d loss / d input (rows x n_in) = delta (rows x n_out) * W^T (n_out x n_in), then back through
        // the previous layer's tanh.
        float* previous = deltas_[l - 1].data();
        backend_.gemm(false, true, rows, layer.n_in, layer.n_out, delta, layer.w.data(), 0.0f, previous);
        backend_.tanh_backward(previous, activations_[l - 1].data(), product(rows, layer.n_in));
    }
}

int64_t Mlp::parameter_count() const {
    int64_t count = 0;
    for (const Layer& layer : layers_) count += static_cast<int64_t>(product(layer.n_in, layer.n_out)) + layer.n_out;
    return count;
}

std::string Mlp::shape() const {
    std::string text = std::to_string(inputs());
    for (size_t l = 0; l < layers_.size(); ++l) {
        text += " -> " + std::to_string(layers_[l].n_out);
        if (l + 1 < layers_.size()) text += " (tanh)";
    }
    return text;
}

}  // namespace trainer
