// flows/conditioners/lipschitz_mlp.cpp — the spectrally normalised MLP of residual flows: power
// iteration, the normalised weights, the forward pass and its Jacobian-vector products.
#include "flows/conditioners/lipschitz_mlp.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/grad_mode.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_matmul.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/matmul.hpp"

namespace fz {

namespace {

// 1 / 1.1: the LipSwish scale (the slope of a * sigmoid(a) peaks just below 1.1).
constexpr double kLipSwishScale = 1.0 / 1.1;
// Power iterations at construction, so the first training step starts from a converged u.
constexpr std::size_t kInitialPowerIterations = 50;
// Every call iterates until sigma_hat changes by less than this (relative), at most
// kMaxUpdateIterations times: one iteration alone falls behind an Adam step at a large rate
// (sigma(W_sn) reached 0.9986 for c = 0.97 in tests/flows/test_residual_flow.cpp), and an
// iteration costs two products with W, nothing next to the batch's. From a converged u it
// stops after two.
constexpr double kUpdateTolerance = 1e-8;
constexpr std::size_t kMaxUpdateIterations = 50;

// In place: x / |x| (a zero vector stays zero: W = 0 has no direction to find).
template <typename T>
void normalise(Tensor<T>& x) {
  double s = 0;
  for (std::size_t i = 0; i < x.numel(); ++i) s += double(x[i]) * double(x[i]);
  const double n = std::sqrt(s);
  if (n > 0)
    for (std::size_t i = 0; i < x.numel(); ++i) x[i] = T(double(x[i]) / n);
}

// W^T u (u: out) and W v (v: in) for W (out, in), as plain loops: the maps are small.
template <typename T>
Tensor<T> times_transposed(const Tensor<T>& W, const Tensor<T>& u) {
  const std::size_t out = W.shape()[0], in = W.shape()[1];
  Tensor<T> r({in});
  for (std::size_t o = 0; o < out; ++o)
    for (std::size_t i = 0; i < in; ++i) r[i] += W[o * in + i] * u[o];
  return r;
}

template <typename T>
Tensor<T> times(const Tensor<T>& W, const Tensor<T>& v) {
  const std::size_t out = W.shape()[0], in = W.shape()[1];
  Tensor<T> r({out});
  for (std::size_t o = 0; o < out; ++o) {
    T s = 0;
    for (std::size_t i = 0; i < in; ++i) s += W[o * in + i] * v[i];
    r[o] = s;
  }
  return r;
}

// One power iteration: v = normalise(W^T u), u = normalise(W v). Returns |W v| = u_new^T W v,
// the new estimate of the largest singular value.
template <typename T>
double power_iteration(const Tensor<T>& W, Tensor<T>& u) {
  Tensor<T> v = times_transposed(W, u);
  normalise(v);
  Tensor<T> next = times(W, v);
  double s = 0;
  for (std::size_t i = 0; i < next.numel(); ++i) s += double(next[i]) * double(next[i]);
  normalise(next);
  u.copy_from(next);
  return std::sqrt(s);
}

}  // namespace

template <typename T>
std::pair<Var<T>, Var<T>> lipswish_and_slope(const Var<T>& a) {
  // d/da [a s(a)] = s + a s (1 - s) = s (1 + a (1 - s))
  const Var<T> s = sigmoid(a);
  return {mul(a, s) * T(kLipSwishScale), mul(s, 1 + mul(a, 1 - s)) * T(kLipSwishScale)};
}

template <typename T>
LipschitzMLP<T>::LipschitzMLP(std::size_t dims, std::size_t hidden, std::size_t hidden_layers, double coefficient,
                              Rng& rng)
    : dims_(dims), coefficient_(coefficient) {
  if (dims == 0 || hidden == 0 || hidden_layers == 0)
    throw std::invalid_argument("LipschitzMLP: dims, hidden and hidden_layers must be at least 1");
  if (!(coefficient > 0 && coefficient < 1))
    throw std::invalid_argument("LipschitzMLP: the Lipschitz coefficient must be in (0, 1), got " +
                                std::to_string(coefficient));
  for (std::size_t l = 0; l <= hidden_layers; ++l) {
    const std::size_t in = l == 0 ? dims : hidden;
    const std::size_t out = l == hidden_layers ? dims : hidden;
    // PyTorch nn.Linear's initialisation: U(+-1/sqrt(in)) for weight then bias.
    const T bound = T(1 / std::sqrt(double(in)));
    Tensor<T> w = rng.uniform<T>({out, in}, -bound, bound);
    Tensor<T> b = rng.uniform<T>({out}, -bound, bound);
    Tensor<T> u = rng.normal<T>({out});
    normalise(u);
    for (std::size_t k = 0; k < kInitialPowerIterations; ++k) power_iteration(w, u);
    weights_.push_back(this->register_parameter("weight" + std::to_string(l), w));
    biases_.push_back(this->register_parameter("bias" + std::to_string(l), b));
    u_.push_back(this->register_buffer("u" + std::to_string(l), u));
  }
}

template <typename T>
std::vector<Var<T>> LipschitzMLP<T>::normalised_weights(bool update) {
  std::vector<Var<T>> out;
  for (std::size_t l = 0; l < weights_.size(); ++l) {
    const Var<T>& W = weights_[l];
    // Without `update` the iterations run on a copy: the stored u (and so the next call) stays
    // as it was, while the bound still holds for W as it is now (an optimiser step since the
    // last training forward has moved it).
    Tensor<T> u = update ? u_[l] : u_[l].clone();
    double previous = 0;
    for (std::size_t k = 0; k < kMaxUpdateIterations; ++k) {
      const double sigma = power_iteration(W.value(), u);
      if (std::abs(sigma - previous) <= kUpdateTolerance * sigma) break;
      previous = sigma;
    }
    Tensor<T> v = times_transposed(W.value(), u);
    normalise(v);
    const std::size_t rows = W.shape()[0], cols = W.shape()[1];
    // sigma_hat = u^T W v, differentiable in W (u, v are constants, as in PyTorch).
    const Var<T> Wv = matmul(W, Var<T>(v.reshape({cols, 1})));
    const Var<T> sigma = sum(mul(Var<T>(u.reshape({rows, 1})), Wv));
    if (double(sigma.value().item()) > coefficient_) out.push_back(mul(W, rdiv_scalar(T(coefficient_), sigma)));
    else out.push_back(W);
  }
  return out;
}

template <typename T>
typename LipschitzMLP<T>::Pass LipschitzMLP<T>::forward(const Var<T>& x, const std::vector<Var<T>>& weights) const {
  if (x.dim() != 2 || x.shape()[1] != dims_)
    throw std::invalid_argument("LipschitzMLP: expected input (batch, " + std::to_string(dims_) + "), got " +
                                shape_str(x.shape()));
  Pass pass;
  Var<T> h = x;
  const std::size_t last = weights.size() - 1;
  for (std::size_t l = 0; l < last; ++l) {
    auto [value, slope] = lipswish_and_slope(linear(h, weights[l], biases_[l]));
    pass.slopes.push_back(slope);
    h = value;
  }
  pass.output = linear(h, weights[last], biases_[last]);
  return pass;
}

template <typename T>
Var<T> LipschitzMLP<T>::jvp(const Pass& pass, const std::vector<Var<T>>& weights, const Var<T>& t) const {
  // The chain rule forwards: each linear map is W t (no bias), each activation phi'(a) * t.
  Var<T> tangent = t;
  const std::size_t last = weights.size() - 1;
  for (std::size_t l = 0; l < last; ++l) tangent = mul(pass.slopes[l], linear(tangent, weights[l]));
  return linear(tangent, weights[last]);
}

template <typename T>
Tensor<T> LipschitzMLP<T>::jvp_value(const Pass& pass, const std::vector<Var<T>>& weights, const Tensor<T>& t) const {
  NoGradGuard no_grad;
  return jvp(pass, weights, Var<T>(t)).value();
}

template <typename T>
Tensor<T> LipschitzMLP<T>::vjp_value(const Pass& pass, const std::vector<Var<T>>& weights, const Tensor<T>& r) const {
  // The chain rule backwards: r W for each map (r: (B, out), W: (out, in)), r * phi'(a) for
  // each activation.
  const std::size_t last = weights.size() - 1;
  Tensor<T> g = matmul(r, weights[last].value());
  for (std::size_t l = last; l-- > 0;) g = matmul(mul(g, pass.slopes[l].value()), weights[l].value());
  return g;
}

template <typename T>
std::vector<double> LipschitzMLP<T>::normalised_spectral_norms(std::size_t iterations) const {
  std::vector<double> out;
  NoGradGuard no_grad;
  auto* self = const_cast<LipschitzMLP<T>*>(this);  // normalised_weights(false) changes nothing
  const std::vector<Var<T>> weights = self->normalised_weights(false);
  for (const Var<T>& W : weights) {
    // In double, from a fixed start: independent of the u buffers the layer uses.
    const Tensor<double> Wd = W.value().template cast<double>();
    Tensor<double> u({Wd.shape()[0]}, 1.0);
    for (std::size_t i = 0; i < u.numel(); ++i) u[i] += 0.01 * double(i % 7);
    normalise(u);
    for (std::size_t k = 0; k < iterations; ++k) power_iteration(Wd, u);
    Tensor<double> v = times_transposed(Wd, u);
    double s = 0;
    for (std::size_t i = 0; i < v.numel(); ++i) s += v[i] * v[i];
    out.push_back(std::sqrt(s));  // |W^T u| = sigma_max once u has converged
  }
  return out;
}

template std::pair<Var<float>, Var<float>> lipswish_and_slope(const Var<float>&);
template std::pair<Var<double>, Var<double>> lipswish_and_slope(const Var<double>&);
template class LipschitzMLP<float>;
template class LipschitzMLP<double>;

}  // namespace fz
