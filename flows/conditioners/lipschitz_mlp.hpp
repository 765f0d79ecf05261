// flows/conditioners/lipschitz_mlp.hpp — LipschitzMLP, the residual branch g of an i-ResNet
// block (flows/bijectors/residual_block.hpp): a fully connected net
//   dims -> hidden -> LipSwish -> (hidden -> hidden -> LipSwish) x (hidden_layers - 1) -> dims
// whose Lipschitz constant is at most `coefficient` < 1, so x -> x + g(x) is invertible
// (Behrmann et al. 2019) and the power series of log det(I + J_g) converges.
//
// Spectral normalisation (Miyato et al. 2018), per linear map: a persistent buffer u<l> (out)
// holds the current estimate of W's top left singular vector. normalised_weights(update)
// runs power iterations from it until sigma_hat changes by less than 1e-8 relative (at most
// 50; 50 at construction), storing the result back only when `update` (a training forward:
// eval stays a function of the saved state), then
//   v = W^T u / |W^T u|,  sigma_hat = u^T W v  (differentiable in W, u and v constants),
//   W_sn = W * min(1, coefficient / sigma_hat).
// sigma_hat <= sigma_max(W), so this bounds the layer only as well as u has converged
// (tests/flows/test_residual_flow.cpp checks the bound after training steps with 500 power
// iterations in double).
//
// Activation LipSwish(a) = a * sigmoid(a) / 1.1 (Chen et al. 2019 with beta = 1): the slope of
// a * sigmoid(a) peaks at 1.0998, so the division makes it 1-Lipschitz; smooth, so J_g is too.
//
// Derivatives, without double backward:
//   jvp   J_g v by pushing a tangent through the layers with Var ops (W_sn t, then phi'(a) * t
//         with phi' itself written in Var ops), so anything built from it has first-order
//         gradients in x and the parameters.
//   vjp   r^T J_g with plain tensors, walking the layers backwards: constants only.
// Parameters "weight0", "bias0", ... (weight (out, in)); buffers "u0", "u1", ...
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../../autograd/nn/module.hpp"
#include "../../autograd/var.hpp"
#include "../../tensor/random.hpp"

namespace fz {

template <typename T>
class LipschitzMLP : public Module<T> {
 public:
  // One forward pass, with what the Jacobian products need: each hidden layer's slope
  // phi'(pre-activation) (Var, differentiable) and the output g(x).
  struct Pass {
    std::vector<Var<T>> slopes;  // (B, hidden) per hidden layer
    Var<T> output;               // (B, dims)
  };

  // Throws std::invalid_argument for zero sizes or a coefficient outside (0, 1).
  LipschitzMLP(std::size_t dims, std::size_t hidden, std::size_t hidden_layers, double coefficient, Rng& rng);
  std::string type_name() const override { return "LipschitzMLP"; }

  // The spectrally normalised weight of every linear map (in order); with `update`, the power
  // iterations' u is stored back into the buffers.
  std::vector<Var<T>> normalised_weights(bool update);
  // g(x) for x (B, dims) with the given (normalised) weights.
  Pass forward(const Var<T>& x, const std::vector<Var<T>>& weights) const;
  // J_g(x) t for the point of `pass`, t (B, dims): differentiable (in t, x, the parameters).
  Var<T> jvp(const Pass& pass, const std::vector<Var<T>>& weights, const Var<T>& t) const;
  // The same, as a constant tensor (no graph).
  Tensor<T> jvp_value(const Pass& pass, const std::vector<Var<T>>& weights, const Tensor<T>& t) const;
  // r^T J_g(x) for r (B, dims), as a constant tensor (a plain reverse pass, no graph).
  Tensor<T> vjp_value(const Pass& pass, const std::vector<Var<T>>& weights, const Tensor<T>& r) const;

  // Largest singular value of each normalised weight by `iterations` fresh power iterations
  // from a fixed start (does not touch the u buffers): the Lipschitz bound, for tests.
  std::vector<double> normalised_spectral_norms(std::size_t iterations = 500) const;

  std::size_t dims() const { return dims_; }
  std::size_t layers() const { return weights_.size(); }
  double coefficient() const { return coefficient_; }

 private:
  std::size_t dims_;
  double coefficient_;
  std::vector<Var<T>> weights_, biases_;
  std::vector<Tensor<T>> u_;  // buffers, shared with the registry
};

// LipSwish(a) = a sigmoid(a) / 1.1 and its slope phi'(a), both as Var ops (differentiable),
// sharing one sigmoid.
template <typename T>
std::pair<Var<T>, Var<T>> lipswish_and_slope(const Var<T>& a);

extern template class LipschitzMLP<float>;
extern template class LipschitzMLP<double>;

}  // namespace fz
