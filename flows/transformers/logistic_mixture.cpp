// flows/transformers/logistic_mixture.cpp — LogisticMixtureTransformer: forward composed from
// differentiable ops (so autograd differentiates it w.r.t. x and params), inverse by a
// per-element bisection in double followed by one op-level Newton step (see the header).
#include "flows/transformers/logistic_mixture.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "autograd/ops.hpp"
#include "tensor/parallel.hpp"

namespace fz {

namespace {

// The conditioner output cut into its five roles. log_pi, mu, log_scale: (B, K, k, rest...);
// a, b: shaped like x.
template <typename T>
struct MixtureParts {
  Var<T> log_pi, mu, log_scale, a, b;
};

template <typename T>
MixtureParts<T> split_parts(const Var<T>& params, const Shape& mixture_shape, const Shape& x_shape,
                            std::size_t components) {
  // Blocked layout (channel p * k + j) makes (B, P * k, rest...) -> (B, P, k, rest...) a reshape.
  const Var<T> p = reshape(params, mixture_shape);
  const long K = static_cast<long>(components);
  MixtureParts<T> parts;
  parts.log_pi = log_softmax(slice(p, 1, 0, K), 1);
  parts.mu = slice(p, 1, K, 2 * K);
  parts.log_scale = clamp(slice(p, 1, 2 * K, 3 * K),
                          static_cast<T>(LogisticMixtureTransformer<T>::kMinLogScale),
                          std::numeric_limits<T>::infinity());
  parts.a = reshape(slice(p, 1, 3 * K, 3 * K + 1), x_shape);
  parts.b = reshape(slice(p, 1, 3 * K + 1, 3 * K + 2), x_shape);
  return parts;
}

double log_sigmoid(double z) { return std::min(z, 0.0) - std::log1p(std::exp(-std::abs(z))); }

// Streaming logsumexp: add(v) folds exp(v) into the sum without overflow.
struct LogSumExp {
  double m = -std::numeric_limits<double>::infinity();
  double s = 0.0;
  void add(double v) {
    if (v == -std::numeric_limits<double>::infinity()) return;
    if (v > m) {
      s = s * std::exp(m - v) + 1.0;
      m = v;
    } else {
      s += std::exp(v - m);
    }
  }
  double value() const { return s > 0.0 ? m + std::log(s) : m; }
};

// One element's mixture in double: component log-weights, means and scales.
struct ElementMixture {
  std::vector<double> log_pi, mu, inv_scale;
  double max_scale = 0.0;

  // logit(F(x)) = log F - log(1 - F), both by logsumexp (the same formula as forward).
  double logit_cdf(double x) const {
    LogSumExp cdf, sf;
    for (std::size_t i = 0; i < mu.size(); ++i) {
      const double z = (x - mu[i]) * inv_scale[i];
      cdf.add(log_pi[i] + log_sigmoid(z));
      sf.add(log_pi[i] + log_sigmoid(-z));
    }
    return cdf.value() - sf.value();
  }
};

// Solves logit(F(x)) = u by bracketing and bisection; NaN when u or the mixture is not finite
// or the root is out of reach of the bracket (see the header).
template <typename T>
double solve_element(const ElementMixture& mix, double u) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!std::isfinite(u)) return nan;
  double lo = *std::min_element(mix.mu.begin(), mix.mu.end());
  double hi = *std::max_element(mix.mu.begin(), mix.mu.end());
  if (!std::isfinite(lo) || !std::isfinite(hi) || !std::isfinite(mix.max_scale)) return nan;
  // Push each end out by doubling steps until logit F(lo) <= u <= logit F(hi).
  double step = mix.max_scale;
  for (int i = 0; i < LogisticMixtureTransformer<T>::kMaxBracketSteps && mix.logit_cdf(lo) > u; ++i) {
    lo -= step;
    step *= 2.0;
  }
  step = mix.max_scale;
  for (int i = 0; i < LogisticMixtureTransformer<T>::kMaxBracketSteps && mix.logit_cdf(hi) < u; ++i) {
    hi += step;
    step *= 2.0;
  }
  // Negated comparisons so a NaN logit also counts as "not bracketed".
  if (!(mix.logit_cdf(lo) <= u) || !(mix.logit_cdf(hi) >= u)) return nan;
  const double tol = LogisticMixtureTransformer<T>::tolerance();
  for (int i = 0; i < LogisticMixtureTransformer<T>::kMaxBisections; ++i) {
    if (hi - lo <= tol * (1.0 + std::max(std::abs(lo), std::abs(hi)))) break;
    const double mid = lo + 0.5 * (hi - lo);
    if (mid <= lo || mid >= hi) break;  // no double left between them
    (mix.logit_cdf(mid) < u ? lo : hi) = mid;
  }
  return lo + 0.5 * (hi - lo);
}

// x* with logit(F(x*)) = (y - b) e^{-a} for every element, from plain tensors (no graph).
template <typename T>
Tensor<T> solve_inverse(const Tensor<T>& y, const Tensor<T>& params, std::size_t K) {
  Tensor<T> x = Tensor<T>::empty(y.shape());
  const std::size_t batch = y.shape()[0];
  if (batch == 0 || y.numel() == 0) return x;
  const std::size_t per_row = y.numel() / batch;  // k * rest
  const std::size_t P = 3 * K + 2;
  const T* pv = params.data();
  // Each element costs ~100 mixture evaluations: worth splitting well below kParallelGrain.
  parallel_for(y.numel(), 256, [&](std::size_t begin, std::size_t end) {
    ElementMixture mix;
    mix.log_pi.resize(K);
    mix.mu.resize(K);
    mix.inv_scale.resize(K);
    for (std::size_t e = begin; e < end; ++e) {
      const std::size_t bi = e / per_row, r = e % per_row;
      auto param = [&](std::size_t p) { return static_cast<double>(pv[(bi * P + p) * per_row + r]); };
      LogSumExp norm;
      mix.max_scale = 0.0;
      for (std::size_t i = 0; i < K; ++i) {
        norm.add(param(i));
        mix.mu[i] = param(K + i);
        const double s = std::max(param(2 * K + i), LogisticMixtureTransformer<T>::kMinLogScale);
        mix.inv_scale[i] = std::exp(-s);
        mix.max_scale = std::max(mix.max_scale, std::exp(s));
      }
      for (std::size_t i = 0; i < K; ++i) mix.log_pi[i] = param(i) - norm.value();
      const double u = (static_cast<double>(y[e]) - param(3 * K + 1)) * std::exp(-param(3 * K));
      x[e] = static_cast<T>(solve_element<T>(mix, u));
    }
  });
  return x;
}

}  // namespace

template <typename T>
LogisticMixtureTransformer<T>::LogisticMixtureTransformer(std::size_t components)
    : components_(components) {
  if (components == 0)
    throw std::invalid_argument("LogisticMixtureTransformer: needs at least one component, got 0");
}

template <typename T>
double LogisticMixtureTransformer<T>::tolerance() {
  return sizeof(T) >= sizeof(double) ? 1e-12 : 1e-7;
}

template <typename T>
Shape LogisticMixtureTransformer<T>::mixture_shape(const Shape& x, const Shape& params,
                                                   const char* where) const {
  const std::size_t P = parameters_per_element();
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("LogisticMixtureTransformer::" + std::string(where) + ": " + why +
                                " (x " + shape_str(x) + ", params " + shape_str(params) + ", K = " +
                                std::to_string(components_) + ")");
  };
  if (x.size() < 2) fail("x needs at least two axes (B, k, ...)");
  if (params.size() != x.size()) fail("params must have as many axes as x");
  if (params[0] != x[0]) fail("params and x have different batch sizes");
  if (params[1] != P * x[1])
    fail("params needs (3K + 2) * k = " + std::to_string(P * x[1]) + " channels on axis 1");
  for (std::size_t d = 2; d < x.size(); ++d)
    if (params[d] != x[d]) fail("params and x differ on axis " + std::to_string(d));
  Shape m = x;
  m.insert(m.begin() + 1, P);
  return m;
}

template <typename T>
Elementwise<T> LogisticMixtureTransformer<T>::forward(const Var<T>& x, const Var<T>& params) {
  const Shape ms = mixture_shape(x.shape(), params.shape(), "forward");
  const MixtureParts<T> parts = split_parts(params, ms, x.shape(), components_);
  Shape x_one = x.shape();  // (B, 1, k, rest...): broadcasts against the K components
  x_one.insert(x_one.begin() + 1, 1);
  // z_i = (x - mu_i) e^{-s_i}; log sigmoid(z) and log sigmoid(-z) = log(1 - sigmoid(z)).
  const Var<T> z = (reshape(x, x_one) - parts.mu) * exp(-parts.log_scale);
  const Var<T> log_sig = logsigmoid(z);
  const Var<T> log_sig_neg = logsigmoid(-z);
  // log F, log(1 - F) and log pdf, the component axis 1 reduced away (back to x's shape).
  const Var<T> log_cdf = logsumexp(parts.log_pi + log_sig, 1);
  const Var<T> log_sf = logsumexp(parts.log_pi + log_sig_neg, 1);
  const Var<T> log_pdf = logsumexp(parts.log_pi + log_sig + log_sig_neg - parts.log_scale, 1);
  // y = e^a logit(F) + b;  dy/dx = e^a pdf / (F (1 - F)).
  Elementwise<T> out;
  out.value = exp(parts.a) * (log_cdf - log_sf) + parts.b;
  out.log_derivative = parts.a + log_pdf - log_cdf - log_sf;
  return out;
}

template <typename T>
Elementwise<T> LogisticMixtureTransformer<T>::inverse(const Var<T>& y, const Var<T>& params) {
  mixture_shape(y.shape(), params.shape(), "inverse");
  const Var<T> x_star(solve_inverse(y.value(), params.value(), components_));
  // One Newton step with ops: value x* + (residual ~ 0) / slope, first derivatives those of the
  // exact inverse (implicit function theorem). The slope is a constant, kept in the normal
  // range so a degenerate element cannot turn the residual into 0/0.
  const Elementwise<T> at_star = forward(x_star, params);
  Tensor<T> slope = exp(at_star.log_derivative.value());
  for (T& s : slope)
    s = std::min(std::max(s, std::numeric_limits<T>::min()), std::numeric_limits<T>::max());
  const Var<T> x = x_star + (y - at_star.value) / Var<T>(slope);
  Elementwise<T> out;
  out.value = x;
  out.log_derivative = -forward(x, params).log_derivative;
  return out;
}

template class LogisticMixtureTransformer<float>;
template class LogisticMixtureTransformer<double>;

}  // namespace fz
