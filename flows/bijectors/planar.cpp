// flows/bijectors/planar.cpp — the planar flow: closed-form generative map (inverse) and its
// log-det, the safeguarded Newton root solve of the density direction (forward) with its
// implicit-function gradient step, and the near-identity initialisation.
#include "flows/bijectors/planar.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

namespace {

// The root alpha of alpha + c tanh(alpha + b) = y (c >= -1, so the left side increases).
// Newton from the bracket's middle, falling back to bisection whenever a step leaves the
// bracket; stops at |residual| <= 1e-13 (1 + |y| + |c|).
double solve_planar_root(double y, double c, double b) {
  double lo = y - std::abs(c), hi = y + std::abs(c);
  const double tol = 1e-13 * (1 + std::abs(y) + std::abs(c));
  double a = 0.5 * (lo + hi);
  for (int it = 0; it < 200; ++it) {
    const double t = std::tanh(a + b);
    const double g = a + c * t - y;
    if (std::abs(g) <= tol || hi - lo <= 0) break;
    if (g < 0) lo = a;
    else hi = a;
    const double slope = 1 + c * (1 - t * t);
    double next = slope > 0 ? a - g / slope : lo - 1;  // lo - 1: force the bisection below
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next == a) break;
    a = next;
  }
  return a;
}

}  // namespace

template <typename T>
PlanarFlow<T>::PlanarFlow(const Tensor<T>& w, const Tensor<T>& u, const Tensor<T>& b) {
  if (w.dim() != 1 || w.numel() == 0 || u.shape() != w.shape() || b.shape() != Shape{1})
    throw std::invalid_argument("PlanarFlow: expected w and u of one shape (D) and b of shape (1), got " +
                                shape_str(w.shape()) + ", " + shape_str(u.shape()) + ", " + shape_str(b.shape()));
  dims_ = w.numel();
  w_ = this->register_parameter("w", w.clone());
  u_ = this->register_parameter("u", u.clone());
  b_ = this->register_parameter("b", b.clone());
}

template <typename T>
void PlanarFlow<T>::check_input(const Shape& s, const char* who) const {
  if (s.size() != 2 || s[1] != dims_)
    throw std::invalid_argument(std::string(who) + ": expected a batch of shape (B, " + std::to_string(dims_) +
                                "), got " + shape_str(s));
}

template <typename T>
Var<T> PlanarFlow<T>::u_hat() const {
  const Var<T> wu = sum(w_ * u_);
  const Var<T> m = softplus(wu) - T(1);
  return u_ + (m - wu) * w_ / sum(square(w_));
}

template <typename T>
Transformed<T> PlanarFlow<T>::inverse(const Var<T>& z) {
  check_input(z.shape(), "PlanarFlow::inverse");
  const std::size_t batch = z.shape()[0];
  const Var<T> t = tanh(sum(z * w_, 1) + b_);  // (B,)
  const Var<T> x = z + reshape(t, {batch, 1}) * u_hat();
  const Var<T> sp = softplus(sum(w_ * u_));   // 1 + w^T u_hat tanh' = t^2 + sp (1 - t^2)
  const Var<T> t2 = square(t);
  return {x, log(t2 + sp * (T(1) - t2))};
}

template <typename T>
Transformed<T> PlanarFlow<T>::forward(const Var<T>& x) {
  check_input(x.shape(), "PlanarFlow::forward");
  const std::size_t batch = x.shape()[0];
  const Var<T> uh = u_hat();
  const Var<T> wx = sum(x * w_, 1);  // (B,)
  const Var<T> sp = softplus(sum(w_ * u_));
  const Var<T> c = sp - T(1);  // w^T u_hat
  // The root per sample, and g'(root) = t^2 + sp (1 - t^2) there, both constants.
  Tensor<T> root({batch}), slope({batch});
  const double cv = c.value().item(), bv = b_.value()[0], spv = sp.value().item();
  for (std::size_t i = 0; i < batch; ++i) {
    const double a = solve_planar_root(static_cast<double>(wx.value()[i]), cv, bv);
    const double t = std::tanh(a + bv);
    root[i] = static_cast<T>(a);
    slope[i] = static_cast<T>(t * t + spv * (1 - t * t));
  }
  // One recorded Newton step: the value stays the root, the first derivatives are the
  // implicit function's.
  const Var<T> a0(root);
  const Var<T> residual = a0 + c * tanh(a0 + b_) - wx;
  const Var<T> alpha = a0 - residual / Var<T>(slope);
  const Var<T> t = tanh(alpha + b_);
  const Var<T> z = x - reshape(t, {batch, 1}) * uh;
  const Var<T> t2 = square(t);
  return {z, -log(t2 + sp * (T(1) - t2))};
}

template <typename T>
std::shared_ptr<PlanarFlow<T>> make_planar_layer(std::size_t dims, Rng& rng) {
  if (dims == 0) throw std::invalid_argument("make_planar_layer: needs at least one dimension");
  // w: a random unit vector. u = kappa w + noise with kappa = log(e - 1) makes w^T u = kappa,
  // where m(kappa) = 0, so u_hat = u - kappa w = (about) the noise: the layer starts near the
  // identity instead of contracting along w as u = 0 would (u_hat = -0.31 w / |w|^2 there).
  Tensor<T> w = rng.normal<T>({dims});
  double norm2 = 0;
  for (std::size_t i = 0; i < dims; ++i) norm2 += double(w[i]) * double(w[i]);
  if (norm2 == 0) {  // (probability zero) any unit vector will do
    w[0] = T(1);
    norm2 = 1;
  }
  const double kappa = std::log(std::exp(1.0) - 1.0);
  Tensor<T> u = rng.normal<T>({dims}, 0.0, 0.1 / std::sqrt(double(dims)));
  for (std::size_t i = 0; i < dims; ++i) {
    w[i] = static_cast<T>(w[i] / std::sqrt(norm2));
    u[i] = static_cast<T>(u[i] + kappa * w[i]);
  }
  Tensor<T> b = rng.normal<T>({1}, 0.0, 0.1);
  return std::make_shared<PlanarFlow<T>>(w, u, b);
}

template class PlanarFlow<float>;
template class PlanarFlow<double>;
template std::shared_ptr<PlanarFlow<float>> make_planar_layer<float>(std::size_t, Rng&);
template std::shared_ptr<PlanarFlow<double>> make_planar_layer<double>(std::size_t, Rng&);

}  // namespace fz
