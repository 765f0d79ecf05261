// flows/distributions/distribution.hpp — the base-distribution interface and the four base
// distributions: StandardNormal, StandardLogistic, DiagonalGaussian (learned mean and log-sd)
// and ConditionalGaussian (mean and log-sd computed from other data, as a Glow split does).
//
// log_prob returns one value per sample: shape (batch,), summed over every other axis.
// Sampling takes a temperature tau that scales the spread (Glow's "temperature"): tau = 1
// draws from the distribution itself, tau < 1 concentrates samples near the mode.
#pragma once

#include <string>

#include "../../autograd/nn/module.hpp"
#include "../../autograd/var.hpp"
#include "../../tensor/random.hpp"

namespace fz {

// A per-sample move of a Gaussian prior's mean and log-sd (each of the latent's full shape,
// batch first): what a class-conditional prior adds (flows/class_prior.hpp).
template <typename T>
struct GaussianShift {
  Var<T> mean, log_sd;
  bool defined() const { return mean.defined(); }
};

template <typename T>
class Distribution : public Module<T> {
 public:
  virtual Var<T> log_prob(const Var<T>& z) = 0;
  // Samples of the given full shape (batch first) at temperature tau.
  virtual Tensor<T> sample(const Shape& shape, T temperature, Rng& rng) = 0;
  // The same with the mean and log-sd moved by `shift` (z's shape): Gaussian bases only (they
  // override both); the others throw std::invalid_argument.
  virtual Var<T> shifted_log_prob(const Var<T>& z, const GaussianShift<T>& shift);
  virtual Tensor<T> shifted_sample(const GaussianShift<T>& shift, T temperature, Rng& rng);
};

// N(0, I): log p(z) = -1/2 sum(z^2 + log 2 pi).
template <typename T>
class StandardNormal : public Distribution<T> {
 public:
  std::string type_name() const override { return "StandardNormal"; }
  Var<T> log_prob(const Var<T>& z) override;
  Tensor<T> sample(const Shape& shape, T temperature, Rng& rng) override;
  Var<T> shifted_log_prob(const Var<T>& z, const GaussianShift<T>& shift) override;
  Tensor<T> shifted_sample(const GaussianShift<T>& shift, T temperature, Rng& rng) override;
};

// Standard logistic per dimension (NICE's prior): log p(z) = -sum(softplus(z) + softplus(-z)).
template <typename T>
class StandardLogistic : public Distribution<T> {
 public:
  std::string type_name() const override { return "StandardLogistic"; }
  Var<T> log_prob(const Var<T>& z) override;
  Tensor<T> sample(const Shape& shape, T temperature, Rng& rng) override;
};

// N(mean, diag(exp(log_sd))^2) with learned mean and log_sd of the event shape (everything but
// the batch axis); both start at zero, i.e. as a standard normal (Glow's learned top prior).
template <typename T>
class DiagonalGaussian : public Distribution<T> {
 public:
  explicit DiagonalGaussian(const Shape& event_shape);
  std::string type_name() const override { return "DiagonalGaussian"; }
  Var<T> log_prob(const Var<T>& z) override;
  Tensor<T> sample(const Shape& shape, T temperature, Rng& rng) override;
  Var<T> shifted_log_prob(const Var<T>& z, const GaussianShift<T>& shift) override;
  Tensor<T> shifted_sample(const GaussianShift<T>& shift, T temperature, Rng& rng) override;

 private:
  Var<T> mean_, log_sd_;
};

// A Gaussian whose mean and log-sd are given per call (same shape as z), e.g. computed by a
// network from the half of the channels a multi-scale split keeps.
template <typename T>
struct ConditionalGaussian {
  // log N(z; mean, exp(log_sd)^2) summed per sample.
  static Var<T> log_prob(const Var<T>& z, const Var<T>& mean, const Var<T>& log_sd);
  // mean + tau * exp(log_sd) * eps, eps ~ N(0, I).
  static Tensor<T> sample(const Tensor<T>& mean, const Tensor<T>& log_sd, T temperature, Rng& rng);
};

}  // namespace fz
