// flows/distributions/distribution.cpp — log densities and samplers of the base distributions.
#include "flows/distributions/distribution.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "flows/bijector.hpp"
#include "tensor/elementwise.hpp"

namespace fz {

namespace {
template <typename T>
constexpr T kHalfLog2Pi = T(0.91893853320467274178);  // 1/2 log(2 pi)
}

template <typename T>
Var<T> Distribution<T>::shifted_log_prob(const Var<T>&, const GaussianShift<T>&) {
  throw std::invalid_argument(this->type_name() + ": not a Gaussian, so it cannot take a class-conditional shift");
}

template <typename T>
Tensor<T> Distribution<T>::shifted_sample(const GaussianShift<T>&, T, Rng&) {
  throw std::invalid_argument(this->type_name() + ": not a Gaussian, so it cannot take a class-conditional shift");
}

template <typename T>
Var<T> StandardNormal<T>::shifted_log_prob(const Var<T>& z, const GaussianShift<T>& shift) {
  return ConditionalGaussian<T>::log_prob(z, shift.mean, shift.log_sd);
}

template <typename T>
Tensor<T> StandardNormal<T>::shifted_sample(const GaussianShift<T>& shift, T temperature, Rng& rng) {
  return ConditionalGaussian<T>::sample(shift.mean.value(), shift.log_sd.value(), temperature, rng);
}

template <typename T>
Var<T> DiagonalGaussian<T>::shifted_log_prob(const Var<T>& z, const GaussianShift<T>& shift) {
  return ConditionalGaussian<T>::log_prob(z, mean_ + shift.mean, log_sd_ + shift.log_sd);
}

template <typename T>
Tensor<T> DiagonalGaussian<T>::shifted_sample(const GaussianShift<T>& shift, T temperature, Rng& rng) {
  return ConditionalGaussian<T>::sample(add(shift.mean.value(), mean_.value()),
                                        add(shift.log_sd.value(), log_sd_.value()), temperature, rng);
}

template <typename T>
Var<T> StandardNormal<T>::log_prob(const Var<T>& z) {
  return sum_per_sample(square(z) * T(-0.5) - kHalfLog2Pi<T>);
}

template <typename T>
Tensor<T> StandardNormal<T>::sample(const Shape& shape, T temperature, Rng& rng) {
  return rng.normal<T>(shape, T(0), temperature);
}

template <typename T>
Var<T> StandardLogistic<T>::log_prob(const Var<T>& z) {
  return neg(sum_per_sample(softplus(z) + softplus(-z)));
}

template <typename T>
Tensor<T> StandardLogistic<T>::sample(const Shape& shape, T temperature, Rng& rng) {
  return mul_scalar(rng.logistic<T>(shape), temperature);
}

template <typename T>
DiagonalGaussian<T>::DiagonalGaussian(const Shape& event_shape) {
  mean_ = this->register_parameter("mean", Tensor<T>(event_shape));
  log_sd_ = this->register_parameter("log_sd", Tensor<T>(event_shape));
}

template <typename T>
Var<T> DiagonalGaussian<T>::log_prob(const Var<T>& z) {
  return ConditionalGaussian<T>::log_prob(z, mean_, log_sd_);
}

template <typename T>
Tensor<T> DiagonalGaussian<T>::sample(const Shape& shape, T temperature, Rng& rng) {
  Tensor<T> eps = rng.normal<T>(shape, T(0), temperature);
  return add(mul(eps, exp(log_sd_.value())), mean_.value());
}

template <typename T>
Var<T> ConditionalGaussian<T>::log_prob(const Var<T>& z, const Var<T>& mean, const Var<T>& log_sd) {
  // log N = -1/2 ((z - mean) / sd)^2 - log sd - 1/2 log 2 pi
  Var<T> scaled = (z - mean) * exp(-log_sd);
  return sum_per_sample(square(scaled) * T(-0.5) - log_sd - kHalfLog2Pi<T>);
}

template <typename T>
Tensor<T> ConditionalGaussian<T>::sample(const Tensor<T>& mean, const Tensor<T>& log_sd,
                                         T temperature, Rng& rng) {
  Tensor<T> eps = rng.normal<T>(mean.shape(), T(0), temperature);
  return add(mul(eps, exp(log_sd)), mean);
}

template class Distribution<float>;
template class Distribution<double>;
template class StandardNormal<float>;
template class StandardNormal<double>;
template class StandardLogistic<float>;
template class StandardLogistic<double>;
template class DiagonalGaussian<float>;
template class DiagonalGaussian<double>;
template struct ConditionalGaussian<float>;
template struct ConditionalGaussian<double>;

}  // namespace fz
