// flows/bijectors/preprocessing.cpp — AffineScalar and Logit.
#include "flows/bijectors/preprocessing.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"

namespace fz {

namespace {
std::size_t dims_per_sample(const Shape& s) { return s.empty() ? 0 : shape_numel(s) / s[0]; }
}  // namespace

template <typename T>
AffineScalar<T>::AffineScalar(T scale, T shift) : scale_(scale), shift_(shift) {
  if (scale == T(0) || !std::isfinite(scale))
    throw std::invalid_argument("AffineScalar: scale must be finite and non-zero");
}

template <typename T>
Transformed<T> AffineScalar<T>::forward(const Var<T>& x) {
  const T logdet = T(dims_per_sample(x.shape())) * std::log(std::abs(scale_));
  return {x * scale_ + shift_, Var<T>(Tensor<T>({x.shape()[0]}, logdet))};
}

template <typename T>
Transformed<T> AffineScalar<T>::inverse(const Var<T>& y) {
  const T logdet = -T(dims_per_sample(y.shape())) * std::log(std::abs(scale_));
  return {(y - shift_) * (T(1) / scale_), Var<T>(Tensor<T>({y.shape()[0]}, logdet))};
}

template <typename T>
Logit<T>::Logit(T alpha) : alpha_(alpha) {
  if (!(alpha >= T(0) && alpha < T(0.5)))
    throw std::invalid_argument("Logit: alpha must be in [0, 0.5), got " + std::to_string(alpha));
}

template <typename T>
Transformed<T> Logit<T>::forward(const Var<T>& x) {
  Var<T> p = x * (T(1) - T(2) * alpha_) + alpha_;
  Var<T> log_p = log(p), log_1mp = log(T(1) - p);
  // d y / d x = (1 - 2 alpha) / (p (1 - p))
  Var<T> logdet = sum_per_sample(neg(log_p + log_1mp)) +
                  T(dims_per_sample(x.shape())) * std::log(T(1) - T(2) * alpha_);
  return {log_p - log_1mp, logdet};
}

template <typename T>
Transformed<T> Logit<T>::inverse(const Var<T>& y) {
  Var<T> p = sigmoid(y);
  Var<T> x = (p - alpha_) * (T(1) / (T(1) - T(2) * alpha_));
  // d x / d y = p (1 - p) / (1 - 2 alpha); log p(1-p) = logsigmoid(y) + logsigmoid(-y)
  Var<T> logdet = sum_per_sample(logsigmoid(y) + logsigmoid(-y)) -
                  T(dims_per_sample(y.shape())) * std::log(T(1) - T(2) * alpha_);
  return {x, logdet};
}

template <typename T>
Shape Flatten<T>::inverse_shape(const Shape& out) const {
  Shape s = {out.at(0)};
  s.insert(s.end(), event_shape_.begin(), event_shape_.end());
  return s;
}

template <typename T>
Transformed<T> Flatten<T>::forward(const Var<T>& x) {
  Shape event(x.shape().begin() + 1, x.shape().end());
  if (event != event_shape_)
    throw std::invalid_argument("Flatten: expected samples of shape " + shape_str(event_shape_) +
                                ", got a batch of shape " + shape_str(x.shape()));
  return {reshape(x, forward_shape(x.shape())), zero_logdet<T>(x.shape()[0])};
}

template <typename T>
Transformed<T> Flatten<T>::inverse(const Var<T>& y) {
  if (y.dim() != 2 || y.shape()[1] != shape_numel(event_shape_))
    throw std::invalid_argument("Flatten: inverse expected (B, " + std::to_string(shape_numel(event_shape_)) +
                                "), got " + shape_str(y.shape()));
  return {reshape(y, inverse_shape(y.shape())), zero_logdet<T>(y.shape()[0])};
}

template class AffineScalar<float>;
template class AffineScalar<double>;
template class Logit<float>;
template class Logit<double>;
template class Flatten<float>;
template class Flatten<double>;

}  // namespace fz
