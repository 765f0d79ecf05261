// tests/flows/test_logistic_mixture.cpp — LogisticMixtureTransformer (Flow++): values against a
// plain double formula read through param_channel, monotonicity, forward -> inverse round
// trips (float64 to 1e-9, float32 to 1e-4) with log-derivatives that cancel, the
// log-derivative against a central difference of y, full-Jacobian gradchecks of forward AND
// inverse w.r.t. x / y and params in float64, extreme inputs (x = +-50, components at and
// beyond the log-scale clamp) staying finite, NaN inputs to inverse ending, and shape errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "flows/transformers/logistic_mixture.hpp"
#include "tests/gradcheck_helpers.hpp"

using namespace fz;
using fz::test::random_uniform;
using fz::test::require_gradcheck;

namespace {

// Conditioner output for x of shape (B, k, rest...): parameter p of channel j at channel
// param_channel(p, j, k), with each role drawn from its own range.
template <typename T>
Tensor<T> mixture_params(const LogisticMixtureTransformer<T>& tr, const Shape& x_shape, unsigned seed,
                         double log_scale_lo = -1.0, double log_scale_hi = 0.5) {
  const std::size_t K = tr.components(), P = tr.parameters_per_element(), k = x_shape[1];
  Shape ps = x_shape;
  ps[1] = P * k;
  Tensor<T> params(ps);
  const std::size_t B = x_shape[0], rest = shape_numel(x_shape) / (B * k);
  std::mt19937 rng(seed);
  for (std::size_t p = 0; p < P; ++p) {
    double lo = -1.0, hi = 1.0;                       // logits, shift b
    if (p >= K && p < 2 * K) lo = -2.0, hi = 2.0;     // means
    if (p >= 2 * K && p < 3 * K) lo = log_scale_lo, hi = log_scale_hi;
    if (p == 3 * K) lo = -0.5, hi = 0.5;              // tail log-scale a
    std::uniform_real_distribution<double> u(lo, hi);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t j = 0; j < k; ++j)
        for (std::size_t r = 0; r < rest; ++r)
          params[(b * P * k + tr.param_channel(p, j, k)) * rest + r] = static_cast<T>(u(rng));
  }
  return params;
}

// The textbook formula in double for element (b, j, r): y and log dy/dx.
std::pair<double, double> reference(const Tensor64& params, std::size_t K, std::size_t k, std::size_t rest,
                                    std::size_t b, std::size_t j, std::size_t r, double x) {
  const std::size_t P = 3 * K + 2;
  auto at = [&](std::size_t p) { return params[(b * P * k + p * k + j) * rest + r]; };
  double norm = 0.0;
  for (std::size_t i = 0; i < K; ++i) norm += std::exp(at(i));
  double F = 0.0, pdf = 0.0;
  for (std::size_t i = 0; i < K; ++i) {
    const double pi = std::exp(at(i)) / norm;
    const double s = std::max(at(2 * K + i), -7.0);
    const double sig = 1.0 / (1.0 + std::exp(-(x - at(K + i)) * std::exp(-s)));
    F += pi * sig;
    pdf += pi * sig * (1.0 - sig) * std::exp(-s);
  }
  const double a = at(3 * K), shift = at(3 * K + 1);
  return {std::exp(a) * std::log(F / (1.0 - F)) + shift, a + std::log(pdf / (F * (1.0 - F)))};
}

}  // namespace

TEST_CASE("logistic mixture: parameter count, values against the plain formula", "[flows][transformer]") {
  LogisticMixtureTransformer<double> tr(3);
  REQUIRE(tr.parameters_per_element() == 11);
  REQUIRE(tr.param_channel(4, 1, 2) == 9);  // blocked layout
  const Shape xs{2, 2, 2, 2};
  const Tensor64 x = random_uniform<double>(xs, 1, -3.0, 3.0);
  const Tensor64 params = mixture_params(tr, xs, 2);
  const Elementwise<double> out = tr.forward(Var64(x), Var64(params));
  REQUIRE(out.value.shape() == xs);
  REQUIRE(out.log_derivative.shape() == xs);
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t r = 0; r < 4; ++r) {
        const std::size_t e = (b * 2 + j) * 4 + r;
        const auto ref = reference(params, 3, 2, 4, b, j, r, x[e]);
        REQUIRE(out.value.value()[e] == Approx(ref.first).epsilon(1e-11).margin(1e-12));
        REQUIRE(out.log_derivative.value()[e] == Approx(ref.second).epsilon(1e-11).margin(1e-12));
      }
}

TEST_CASE("logistic mixture: strictly increasing in x", "[flows][transformer]") {
  LogisticMixtureTransformer<double> tr(4);
  const Tensor64 params = mixture_params(tr, {1, 1}, 3);
  Tensor64 x({1, 1});
  double previous = -std::numeric_limits<double>::infinity();
  for (int i = -400; i <= 400; ++i) {
    x[0] = 0.025 * i;
    const double y = tr.forward(Var64(x), Var64(params)).value.value()[0];
    REQUIRE(y > previous);
    previous = y;
  }
}

TEST_CASE("logistic mixture: forward -> inverse round trip and cancelling log-derivatives", "[flows][transformer]") {
  SECTION("float64 to 1e-9") {
    LogisticMixtureTransformer<double> tr(4);
    const Shape xs{3, 2, 5};
    const Tensor64 x = random_uniform<double>(xs, 4, -6.0, 6.0);
    const Tensor64 params = mixture_params(tr, xs, 5);
    const Elementwise<double> f = tr.forward(Var64(x), Var64(params));
    const Elementwise<double> g = tr.inverse(f.value, Var64(params));
    for (std::size_t e = 0; e < x.numel(); ++e) {
      REQUIRE(std::abs(g.value.value()[e] - x[e]) <= 1e-9);
      REQUIRE(std::abs(g.log_derivative.value()[e] + f.log_derivative.value()[e]) <= 1e-9);
    }
  }
  SECTION("float32 to 1e-4") {
    LogisticMixtureTransformer<float> tr(3);
    const Shape xs{2, 3, 2, 2};
    const Tensor32 x = random_uniform<float>(xs, 6, -4.0, 4.0);
    const Tensor32 params = mixture_params(tr, xs, 7);
    const Elementwise<float> f = tr.forward(Var32(x), Var32(params));
    const Elementwise<float> g = tr.inverse(f.value, Var32(params));
    for (std::size_t e = 0; e < x.numel(); ++e) {
      REQUIRE(std::abs(g.value.value()[e] - x[e]) <= 1e-4f * (1.0f + std::abs(x[e])));
      REQUIRE(std::abs(g.log_derivative.value()[e] + f.log_derivative.value()[e]) <= 1e-4f);
    }
  }
}

TEST_CASE("logistic mixture: log-derivative equals a central difference of y", "[flows][transformer]") {
  LogisticMixtureTransformer<double> tr(3);
  const Shape xs{2, 3};
  const Tensor64 x = random_uniform<double>(xs, 8, -4.0, 4.0);
  const Var64 params(mixture_params(tr, xs, 9));
  const double h = 1e-5;
  const Tensor64 ld = tr.forward(Var64(x), params).log_derivative.value();
  const Tensor64 up = tr.forward(Var64(add_scalar(x, h)), params).value.value();
  const Tensor64 down = tr.forward(Var64(add_scalar(x, -h)), params).value.value();
  for (std::size_t e = 0; e < x.numel(); ++e) {
    const double slope = (up[e] - down[e]) / (2 * h);
    REQUIRE(slope > 0.0);
    REQUIRE(ld[e] == Approx(std::log(slope)).margin(1e-7));
  }
}

TEST_CASE("logistic mixture: gradcheck of forward w.r.t. x and params (float64)", "[flows][transformer]") {
  LogisticMixtureTransformer<double> tr(2);
  const Shape xs{1, 2, 2};
  const Tensor64 x = random_uniform<double>(xs, 10, -2.5, 2.5);
  const Tensor64 params = mixture_params(tr, xs, 11);
  require_gradcheck([&tr](const std::vector<Var64>& v) { return tr.forward(v[0], v[1]).value; }, {x, params});
  require_gradcheck([&tr](const std::vector<Var64>& v) { return tr.forward(v[0], v[1]).log_derivative; }, {x, params});
}

TEST_CASE("logistic mixture: gradcheck of inverse w.r.t. y and params (float64)", "[flows][transformer]") {
  LogisticMixtureTransformer<double> tr(2);
  const Shape xs{1, 2, 2};
  const Tensor64 params = mixture_params(tr, xs, 12);
  const Tensor64 y = tr.forward(Var64(random_uniform<double>(xs, 13, -2.5, 2.5)), Var64(params)).value.value();
  require_gradcheck([&tr](const std::vector<Var64>& v) { return tr.inverse(v[0], v[1]).value; }, {y, params});
  require_gradcheck([&tr](const std::vector<Var64>& v) { return tr.inverse(v[0], v[1]).log_derivative; }, {y, params});
}

TEST_CASE("logistic mixture: extreme inputs and peaked components stay finite", "[flows][transformer]") {
  // Log-scales in [-20, -6]: mostly clamped to -7, i.e. components of width e^-7 ~ 1e-3,
  // evaluated 50 away from every mean: F rounds to 0 or 1 in any naive form.
  LogisticMixtureTransformer<double> tr(3);
  const Shape xs{1, 1, 4};
  const Tensor64 x({1, 1, 4}, {-50.0, 50.0, -1e3, 0.0});
  Var64 params(mixture_params(tr, xs, 14, -20.0, -6.0), true);
  const Elementwise<double> f = tr.forward(Var64(x), params);
  for (std::size_t e = 0; e < 4; ++e) {
    INFO("x = " << x[e]);
    REQUIRE(std::isfinite(f.value.value()[e]));
    REQUIRE(std::isfinite(f.log_derivative.value()[e]));
  }
  REQUIRE(f.value.value()[0] < -1e3);  // far left: logit(F) ~ (x - mu) e^7
  REQUIRE(f.value.value()[1] > 1e3);
  (sum(f.value) + sum(f.log_derivative)).backward();
  for (double g : params.grad()) REQUIRE(std::isfinite(g));
  // The inverse finds these points again (the bracket has to grow ~16 doublings from e^-7).
  const Elementwise<double> g = tr.inverse(f.value.detach(), params.detach());
  for (std::size_t e = 0; e < 3; ++e) REQUIRE(std::abs(g.value.value()[e] - x[e]) <= 1e-9 * (1 + std::abs(x[e])));
  // x = 0 sits on a plateau between components ~1000 widths away: dy/dx ~ e^-1000 underflows,
  // so no x can be recovered there; the inverse must still land on a point with the same y.
  REQUIRE(std::isfinite(g.value.value()[3]));
  const double y_again = tr.forward(g.value.detach(), params.detach()).value.value()[3];
  REQUIRE(y_again == Approx(f.value.value()[3]).epsilon(1e-12));

  // float32: same story.
  LogisticMixtureTransformer<float> trf(3);
  const Tensor32 xf({1, 1, 4}, {-50.f, 50.f, -20.f, 20.f});
  const Tensor32 pf = mixture_params(trf, xs, 15, -20.0, -6.0);
  const Elementwise<float> ff = trf.forward(Var32(xf), Var32(pf));
  for (std::size_t e = 0; e < 4; ++e) {
    REQUIRE(std::isfinite(ff.value.value()[e]));
    REQUIRE(std::isfinite(ff.log_derivative.value()[e]));
  }
  const Elementwise<float> gf = trf.inverse(ff.value, Var32(pf));
  for (std::size_t e = 0; e < 4; ++e) REQUIRE(std::abs(gf.value.value()[e] - xf[e]) <= 1e-4f * (1 + std::abs(xf[e])));
}

TEST_CASE("logistic mixture: inverse of NaN or infinite y ends with NaN", "[flows][transformer]") {
  LogisticMixtureTransformer<double> tr(2);
  const Tensor64 params = mixture_params(tr, {1, 3}, 16);
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor64 y({1, 3}, {std::numeric_limits<double>::quiet_NaN(), inf, 0.5});
  const Elementwise<double> g = tr.inverse(Var64(y), Var64(params));
  REQUIRE(std::isnan(g.value.value()[0]));
  REQUIRE(std::isnan(g.value.value()[1]));
  REQUIRE(std::isfinite(g.value.value()[2]));
}

TEST_CASE("logistic mixture: bad shapes and K = 0 throw invalid_argument", "[flows][transformer]") {
  REQUIRE_THROWS_AS(LogisticMixtureTransformer<double>(0), std::invalid_argument);
  LogisticMixtureTransformer<double> tr(2);  // P = 8
  const Var64 x(Tensor64({2, 3, 4}, 0.0));
  REQUIRE_THROWS_WITH(tr.forward(x, Var64(Tensor64({2, 23, 4}, 0.0))),
                      Catch::Contains("(3K + 2) * k = 24") && Catch::Contains("params (2, 23, 4)"));
  REQUIRE_THROWS_AS(tr.forward(x, Var64(Tensor64({1, 24, 4}, 0.0))), std::invalid_argument);
  REQUIRE_THROWS_AS(tr.forward(x, Var64(Tensor64({2, 24, 5}, 0.0))), std::invalid_argument);
  REQUIRE_THROWS_AS(tr.forward(x, Var64(Tensor64({2, 24}, 0.0))), std::invalid_argument);
  REQUIRE_THROWS_AS(tr.inverse(Var64(Tensor64({3}, 0.0)), Var64(Tensor64({24}, 0.0))), std::invalid_argument);
  REQUIRE_THROWS_AS(tr.inverse(x, Var64(Tensor64({2, 8, 4}, 0.0))), std::invalid_argument);
}
