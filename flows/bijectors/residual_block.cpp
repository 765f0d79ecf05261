// flows/bijectors/residual_block.cpp — the i-ResNet block: y = x + g(x), its fixed-point
// inverse and the choice of log-det estimator by mode.
#include "flows/bijectors/residual_block.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/grad_mode.hpp"
#include "autograd/ops_elementwise.hpp"

namespace fz {

template <typename T>
ResidualBlock<T>::ResidualBlock(std::size_t dims, const ResidualBlockOptions& options, Rng& rng)
    : dims_(dims), options_(options), rng_(rng.split()) {
  g_ = this->register_module("g", std::make_shared<LipschitzMLP<T>>(dims, options.hidden, options.hidden_layers,
                                                                   options.coefficient, rng));
  if (options.series_terms == 0) throw std::invalid_argument("ResidualBlock: series_terms must be at least 1");
  if (options.inverse_max_iterations == 0)
    throw std::invalid_argument("ResidualBlock: inverse_max_iterations must be at least 1");
}

template <typename T>
double ResidualBlock<T>::inverse_tolerance() const {
  if (options_.inverse_tolerance > 0) return options_.inverse_tolerance;
  return sizeof(T) == sizeof(float) ? 1e-5 : 1e-10;
}

template <typename T>
void ResidualBlock<T>::check_input(const Var<T>& x, const char* who) const {
  if (x.dim() != 2 || x.shape()[1] != dims_)
    throw std::invalid_argument(std::string("ResidualBlock::") + who + ": expected (batch, " + std::to_string(dims_) +
                                "), got " + shape_str(x.shape()));
}

template <typename T>
ResidualJacobian<T> ResidualBlock<T>::jacobian(const typename LipschitzMLP<T>::Pass& pass,
                                               const std::vector<Var<T>>& weights, std::size_t batch) const {
  ResidualJacobian<T> J;
  J.batch = batch;
  J.dims = dims_;
  const LipschitzMLP<T>* g = g_.get();
  // The closures hold the pass and weights by reference: J lives only inside forward/inverse.
  J.jvp = [g, &pass, &weights](const Var<T>& t) { return g->jvp(pass, weights, t); };
  J.jvp_value = [g, &pass, &weights](const Tensor<T>& t) { return g->jvp_value(pass, weights, t); };
  J.vjp_value = [g, &pass, &weights](const Tensor<T>& r) { return g->vjp_value(pass, weights, r); };
  return J;
}

template <typename T>
Var<T> ResidualBlock<T>::logdet(const ResidualJacobian<T>& J, ResidualLogdet method) {
  switch (method) {
    case ResidualLogdet::Exact: return exact_logdet(J);
    case ResidualLogdet::Series:
      return power_series_logdet(J, options_.series_terms, draw_probe<T>(options_.probe, J.batch, J.dims, rng_));
    case ResidualLogdet::Roulette: break;
  }
  return russian_roulette_logdet(J, options_.roulette, draw_probe<T>(options_.probe, J.batch, J.dims, rng_), rng_);
}

template <typename T>
Transformed<T> ResidualBlock<T>::forward(const Var<T>& x) {
  check_input(x, "forward");
  const bool training = this->is_training();
  const std::vector<Var<T>> weights = g_->normalised_weights(/*update=*/training);
  const typename LipschitzMLP<T>::Pass pass = g_->forward(x, weights);
  const ResidualLogdet method =
      !training && dims_ <= options_.exact_max_dims ? ResidualLogdet::Exact : options_.training_logdet;
  Var<T> ld = logdet(jacobian(pass, weights, x.shape()[0]), method);
  return {x + pass.output, ld};
}

template <typename T>
Transformed<T> ResidualBlock<T>::inverse(const Var<T>& y) {
  check_input(y, "inverse");
  NoGradGuard no_grad;
  const std::vector<Var<T>> weights = g_->normalised_weights(/*update=*/false);
  const Tensor<T>& target = y.value();
  double scale = 1;
  for (T v : target) scale = std::max(scale, double(std::abs(v)));
  const double tolerance = inverse_tolerance() * scale;
  Tensor<T> x = target.clone();
  last_inverse_ = FixedPointReport{};
  for (std::size_t k = 1;; ++k) {
    const Tensor<T> gx = g_->forward(Var<T>(x), weights).output.value();
    double step = 0;
    bool finite = true;
    Tensor<T> next(x.shape());
    for (std::size_t i = 0; i < x.numel(); ++i) {
      next[i] = target[i] - gx[i];
      const double d = std::abs(double(next[i]) - double(x[i]));
      finite = finite && std::isfinite(d);
      step = std::max(step, d);
    }
    x = next;
    last_inverse_ = {k, step};
    if (!finite)
      throw std::runtime_error("ResidualBlock::inverse: the fixed-point iteration produced a non-finite value");
    if (step <= tolerance) break;
    if (k >= options_.inverse_max_iterations)
      throw std::runtime_error("ResidualBlock::inverse: the fixed-point iteration did not converge in " +
                               std::to_string(k) + " iterations (residual " + std::to_string(step) +
                               " > tolerance " + std::to_string(tolerance) + ")");
  }
  const Var<T> xv(x);
  const typename LipschitzMLP<T>::Pass pass = g_->forward(xv, weights);
  const ResidualLogdet method = dims_ <= options_.exact_max_dims ? ResidualLogdet::Exact : options_.training_logdet;
  const Var<T> ld = logdet(jacobian(pass, weights, x.shape()[0]), method);
  return {xv, Var<T>(neg(ld.value()))};
}

template class ResidualBlock<float>;
template class ResidualBlock<double>;

}  // namespace fz
