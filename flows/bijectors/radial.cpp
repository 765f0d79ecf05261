// flows/bijectors/radial.cpp — the radial flow: the generative map and its log-det, the
// closed-form root of the density direction, the near-identity initialisation.
#include "flows/bijectors/radial.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

template <typename T>
RadialFlow<T>::RadialFlow(const Tensor<T>& z0, const Tensor<T>& alpha_raw, const Tensor<T>& beta_raw) {
  if (z0.dim() != 1 || z0.numel() == 0 || alpha_raw.shape() != Shape{1} || beta_raw.shape() != Shape{1})
    throw std::invalid_argument("RadialFlow: expected z0 of shape (D) and alpha_raw, beta_raw of shape (1), got " +
                                shape_str(z0.shape()) + ", " + shape_str(alpha_raw.shape()) + ", " +
                                shape_str(beta_raw.shape()));
  dims_ = z0.numel();
  z0_ = this->register_parameter("z0", z0.clone());
  alpha_raw_ = this->register_parameter("alpha_raw", alpha_raw.clone());
  beta_raw_ = this->register_parameter("beta_raw", beta_raw.clone());
}

template <typename T>
void RadialFlow<T>::check_input(const Shape& s, const char* who) const {
  if (s.size() != 2 || s[1] != dims_)
    throw std::invalid_argument(std::string(who) + ": expected a batch of shape (B, " + std::to_string(dims_) +
                                "), got " + shape_str(s));
}

template <typename T>
Var<T> RadialFlow<T>::alpha() const {
  return softplus(alpha_raw_);
}

template <typename T>
Var<T> RadialFlow<T>::beta() const {
  return softplus(beta_raw_) - alpha();
}

template <typename T>
Var<T> RadialFlow<T>::generative_logdet(const Var<T>& r, const Var<T>& alpha, const Var<T>& sp) const {
  const Var<T> log_ar = log(alpha + r);
  Var<T> radial = log(square(r) + T(2) * alpha * r + sp * alpha) - T(2) * log_ar;
  if (dims_ == 1) return radial;
  return radial + T(dims_ - 1) * (log(sp + r) - log_ar);
}

template <typename T>
Transformed<T> RadialFlow<T>::inverse(const Var<T>& z) {
  check_input(z.shape(), "RadialFlow::inverse");
  const std::size_t batch = z.shape()[0];
  const Var<T> a = alpha(), sp = softplus(beta_raw_), b = sp - a;
  const Var<T> d = z - z0_;
  const Var<T> r = sqrt(sum(square(d), 1) + T(1e-30));  // (B,)
  const Var<T> x = z + reshape(b / (a + r), {batch, 1}) * d;
  return {x, generative_logdet(r, a, sp)};
}

template <typename T>
Transformed<T> RadialFlow<T>::forward(const Var<T>& x) {
  check_input(x.shape(), "RadialFlow::forward");
  const std::size_t batch = x.shape()[0];
  const Var<T> a = alpha(), sp = softplus(beta_raw_);
  const Var<T> d = x - z0_;
  const Var<T> rx = sqrt(sum(square(d), 1) + T(1e-30));  // (B,)
  // r^2 + s r - rx alpha = 0, s = sp - rx: the positive root without cancellation.
  const Var<T> s = sp - rx;
  const Var<T> q = (abs(s) + sqrt(square(s) + T(4) * rx * a)) * T(0.5);
  // Which form each sample takes (constant masks: both forms are finite everywhere, q > 0).
  Tensor<T> s_negative({batch}), s_nonnegative({batch});
  for (std::size_t i = 0; i < batch; ++i) {
    s_negative[i] = s.value()[i] < 0 ? T(1) : T(0);
    s_nonnegative[i] = T(1) - s_negative[i];
  }
  const Var<T> r = Var<T>(s_negative) * q + Var<T>(s_nonnegative) * (rx * a / q);
  const Var<T> z = z0_ + reshape((a + r) / (sp + r), {batch, 1}) * d;
  return {z, -generative_logdet(r, a, sp)};
}

template <typename T>
std::shared_ptr<RadialFlow<T>> make_radial_layer(std::size_t dims, Rng& rng) {
  if (dims == 0) throw std::invalid_argument("make_radial_layer: needs at least one dimension");
  return std::make_shared<RadialFlow<T>>(rng.normal<T>({dims}), Tensor<T>({1}, T(0)), rng.normal<T>({1}, 0.0, 0.1));
}

template class RadialFlow<float>;
template class RadialFlow<double>;
template std::shared_ptr<RadialFlow<float>> make_radial_layer<float>(std::size_t, Rng&);
template std::shared_ptr<RadialFlow<double>> make_radial_layer<double>(std::size_t, Rng&);

}  // namespace fz
