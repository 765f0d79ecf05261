// flows/transformers/logistic_mixture.hpp — Flow++'s logistic-mixture CDF transformer (Ho et al.
// 2019, "Flow++", section 3.1), as a Transformer (flows/transformers/transformer.hpp).
//
// For each element x with K components (logits l, means mu, log-scales s) and an affine tail
// (log-scale a, shift b):
//   pi = softmax(l),  z_i = (x - mu_i) exp(-s_i),  F(x) = sum_i pi_i sigmoid(z_i)
//   y = exp(a) * logit(F(x)) + b                           (strictly increasing in x)
//   log dy/dx = a + log pdf(x) - log F - log(1 - F),   pdf = sum_i pi_i sigmoid(z_i) sigmoid(-z_i) e^{-s_i}
// All in log space: log F = logsumexp_i(log pi_i + logsigmoid(z_i)), log(1 - F) the same with
// logsigmoid(-z_i), log pdf likewise, so logit(F) = log F - log(1 - F) never takes the logit
// of an F rounded to 0 or 1 (x = +-50 against a component of scale e^-7 stays finite).
// The log-scales are clamped below at kMinLogScale = -7 (as Flow++ does): a sharper
// component would make the map numerically a step function. Below the clamp s gets no gradient.
//
// Parameters: P = 3K + 2 per element, in the default blocked layout (param_channel p * k + j):
// p in [0, K) logits, [K, 2K) means, [2K, 3K) raw log-scales, 3K the tail log-scale a, 3K + 1
// the tail shift b. So for x of shape (B, k, rest...), params is (B, (3K + 2) k, rest...).
//
// inverse: u = (y - b) e^{-a}, then logit(F(x)) = u is solved per element in double (whatever
// T), by bisection sped up with Newton steps: the bracket starts at [min mu, max mu] and each end
// is pushed out by a doubling step (first step: the largest component scale) until it encloses
// the root (at most kMaxBracketSteps pushes); then each step takes Newton's point if it lies
// strictly inside the bracket and the midpoint otherwise, and the bracket shrinks to the side
// holding the root. It stops when a step moves x by at most tolerance() * (1 + |x|) (1e-12 for
// double, 1e-7 for float), when the bracket is that narrow, or after kMaxSolverSteps steps — so
// it always ends. A non-finite u (or a root beyond the reachable bracket) gives NaN.
// The solution x* is then refined by one Newton step written with ops,
//   x = x* + (y - tau(x*; theta)) / tau'(x*),     with tau'(x*) a constant,
// whose value is x* to within the solver tolerance and whose first derivatives are exactly the
// implicit-function ones (dx/dy = 1/tau', dx/dtheta = -dtau/dtheta / tau'), so inverse IS
// differentiable w.r.t. y and params (first order) at the price of two forward evaluations.
// Its log-derivative is minus forward's at x.
#pragma once

#include <cstddef>
#include <string>

#include "transformer.hpp"

namespace fz {

template <typename T>
class LogisticMixtureTransformer : public Transformer<T> {
 public:
  static constexpr double kMinLogScale = -7.0;
  static constexpr int kMaxBracketSteps = 200;
  static constexpr int kMaxSolverSteps = 400;

  // components: K >= 1 (throws std::invalid_argument otherwise).
  explicit LogisticMixtureTransformer(std::size_t components);

  std::string type_name() const override { return "LogisticMixtureTransformer"; }
  std::size_t components() const { return components_; }
  std::size_t parameters_per_element() const override { return 3 * components_ + 2; }

  // x: (B, k, rest...), params: (B, (3K + 2) k, rest...); throws std::invalid_argument
  // naming both shapes otherwise.
  Elementwise<T> forward(const Var<T>& x, const Var<T>& params) override;
  Elementwise<T> inverse(const Var<T>& y, const Var<T>& params) override;

  // The solver's stopping step / width relative to 1 + |x| (1e-12 for double, 1e-7 for float).
  static double tolerance();

 private:
  // Throws unless params has (3K + 2) k channels and x's other axes; returns (B, P, k, rest...).
  Shape mixture_shape(const Shape& x, const Shape& params, const char* where) const;

  std::size_t components_;
};

extern template class LogisticMixtureTransformer<float>;
extern template class LogisticMixtureTransformer<double>;

}  // namespace fz
