// tests/autograd/test_gradcheck_softmax.cpp — softmax, log_softmax and logsumexp along an
// axis: float64 full-Jacobian gradchecks on every axis (negative axes included), values
// against a plain double reference, stability on inputs like 1000 that overflow the naive
// formula, and the axis errors. Also softplus / logsigmoid at large |x| (their [-8, 8]
// gradchecks live in test_gradcheck_elementwise.cpp), since the log-space mixtures use them.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_softmax.hpp"
#include "tests/gradcheck_helpers.hpp"

using namespace fz;
using fz::test::random_uniform;
using fz::test::require_gradcheck;

namespace {

// Plain reference on a (2, 3, 4) tensor: log_softmax along `axis` by the textbook formula
// (fine for the small inputs it is used on).
double naive_log_softmax(const Tensor64& x, std::size_t axis, std::size_t a, std::size_t b, std::size_t c) {
  std::vector<std::size_t> idx{a, b, c};
  const double xi = x.at(idx);
  double s = 0.0;
  for (std::size_t j = 0; j < x.shape()[axis]; ++j) {
    idx[axis] = j;
    s += std::exp(x.at(idx));
  }
  return xi - std::log(s);
}

// Weights the outputs so the check sees a non-trivial scalar too (softmax rows sum to 1,
// so an unweighted sum would have zero gradient).
Var64 weighted_sum(const Var64& y) {
  Tensor64 w = Tensor64::empty(y.shape());
  for (std::size_t i = 0; i < w.numel(); ++i) w[i] = 0.3 + 0.17 * double(i % 7);
  return sum(y * Var64(w));
}

}  // namespace

TEST_CASE("gradcheck: softmax and log_softmax along every axis", "[autograd][softmax]") {
  const Tensor64 x = random_uniform({2, 3, 4}, 11);
  for (int axis : {0, 1, 2, -1, -3}) {
    INFO("axis " << axis);
    require_gradcheck([axis](const std::vector<Var64>& v) { return softmax(v[0], axis); }, {x});
    require_gradcheck([axis](const std::vector<Var64>& v) { return log_softmax(v[0], axis); }, {x});
    require_gradcheck([axis](const std::vector<Var64>& v) { return weighted_sum(softmax(v[0], axis)); }, {x});
    require_gradcheck([axis](const std::vector<Var64>& v) { return logsumexp(v[0], axis); }, {x});
  }
  // Large shifted inputs: the gradient is shift-invariant and must not overflow either.
  Tensor64 big = random_uniform({3, 5}, 12, 998.0, 1002.0);
  require_gradcheck([](const std::vector<Var64>& v) { return log_softmax(v[0], 1); }, {big});
  require_gradcheck([](const std::vector<Var64>& v) { return softmax(v[0], 0); }, {big});
  require_gradcheck([](const std::vector<Var64>& v) { return logsumexp(v[0], -1); }, {big});
}

TEST_CASE("softmax, log_softmax, logsumexp: values match a plain reference", "[autograd][softmax]") {
  const Tensor64 x = random_uniform({2, 3, 4}, 13);
  for (std::size_t axis = 0; axis < 3; ++axis) {
    const Var64 ls = log_softmax(Var64(x), static_cast<int>(axis));
    const Var64 sm = softmax(Var64(x), static_cast<int>(axis));
    const Var64 lse = logsumexp(Var64(x), static_cast<int>(axis));
    REQUIRE(ls.shape() == x.shape());
    REQUIRE(sm.shape() == x.shape());
    Shape dropped = x.shape();
    dropped.erase(dropped.begin() + static_cast<long>(axis));
    REQUIRE(lse.shape() == dropped);  // logsumexp drops the axis
    for (std::size_t a = 0; a < 2; ++a)
      for (std::size_t b = 0; b < 3; ++b)
        for (std::size_t c = 0; c < 4; ++c) {
          const double ref = naive_log_softmax(x, axis, a, b, c);
          REQUIRE(ls.value().at({a, b, c}) == Approx(ref).epsilon(1e-13));
          REQUIRE(sm.value().at({a, b, c}) == Approx(std::exp(ref)).epsilon(1e-13));
          std::vector<std::size_t> kept{a, b, c};
          kept.erase(kept.begin() + static_cast<long>(axis));
          REQUIRE(lse.value().at(kept) == Approx(x.at({a, b, c}) - ref).epsilon(1e-13));
        }
  }
}

TEST_CASE("softmax family: stable on inputs that overflow the naive formula", "[autograd][softmax]") {
  // exp(1000) overflows double (and exp(100) float): the max shift keeps everything finite.
  const Tensor64 x({2, 3}, {1000.0, 1001.0, 1002.0, -1000.0, -1001.0, -1002.0});
  REQUIRE(std::isinf(std::exp(1000.0)));  // the naive form really would overflow
  const Var64 sm = softmax(Var64(x), 1), ls = log_softmax(Var64(x), 1), lse = logsumexp(Var64(x), 1);
  const double l3 = std::log(1.0 + std::exp(-1.0) + std::exp(-2.0));  // lse of {0, -1, -2}
  const double expect_ls[3] = {-2.0 - l3, -1.0 - l3, -l3};
  for (std::size_t j = 0; j < 3; ++j) {
    REQUIRE(ls.value()[j] == Approx(expect_ls[j]).epsilon(1e-12));
    REQUIRE(ls.value()[3 + j] == Approx(expect_ls[2 - j]).epsilon(1e-12));  // ulp(1000) ~ 1e-13
    REQUIRE(sm.value()[j] == Approx(std::exp(expect_ls[j])).epsilon(1e-12));
  }
  REQUIRE(lse.value()[0] == Approx(1002.0 + l3).epsilon(1e-14));
  REQUIRE(lse.value()[1] == Approx(-1000.0 + l3).epsilon(1e-14));

  // float: 100 already overflows exp in float.
  const Tensor32 xf({1, 3}, {100.f, 101.f, 102.f});
  const Var32 smf = softmax(Var32(xf, true), -1);
  for (std::size_t j = 0; j < 3; ++j) {
    REQUIRE(std::isfinite(smf.value()[j]));
    REQUIRE(smf.value()[j] == Approx(std::exp(expect_ls[j])).epsilon(1e-6));
  }
  Var32 xv(xf, true);
  sum(log_softmax(xv, -1) * Var32(Tensor32({1, 3}, {1.f, 2.f, 3.f}))).backward();
  for (float g : xv.grad()) REQUIRE(std::isfinite(g));

  // A line that is all -inf: softmax 0, log_softmax -inf, no NaN.
  const double inf = std::numeric_limits<double>::infinity();
  const Var64 s2 = softmax(Var64(Tensor64({2, 2}, {-inf, -inf, 0.0, 0.0})), 1);
  REQUIRE(s2.value()[0] == 0.0);
  REQUIRE(s2.value()[1] == 0.0);
  REQUIRE(s2.value()[2] == Approx(0.5));
}

TEST_CASE("softmax family: exact gradients on a small case", "[autograd][softmax]") {
  // softmax(0, log 3) = (1/4, 3/4); d/dx of p_1 is p_1 (1 - p_1) = 3/16 on x_1, -3/16 on x_0.
  Var64 x(Tensor64({2}, {0.0, std::log(3.0)}), true);
  const Var64 p = softmax(x, 0);
  p.backward(Tensor64({2}, {0.0, 1.0}));
  REQUIRE(x.grad()[0] == Approx(-3.0 / 16.0).epsilon(1e-14));
  REQUIRE(x.grad()[1] == Approx(3.0 / 16.0).epsilon(1e-14));
  // log_softmax: d ls_0 / dx = e_0 - p = (3/4, -3/4).
  Var64 y(Tensor64({2}, {0.0, std::log(3.0)}), true);
  log_softmax(y, -1).backward(Tensor64({2}, {1.0, 0.0}));
  REQUIRE(y.grad()[0] == Approx(0.75).epsilon(1e-14));
  REQUIRE(y.grad()[1] == Approx(-0.75).epsilon(1e-14));
}

TEST_CASE("softmax family: bad axes throw invalid_argument naming the shape", "[autograd][softmax]") {
  const Var64 x(Tensor64({2, 3}, 0.0));
  REQUIRE_THROWS_AS(softmax(x, 2), std::invalid_argument);
  REQUIRE_THROWS_AS(log_softmax(x, -3), std::invalid_argument);
  REQUIRE_THROWS_AS(softmax(Var64(Tensor64::scalar(1.0)), 0), std::invalid_argument);
  REQUIRE_THROWS_WITH(softmax(x, 5), Catch::Contains("softmax") && Catch::Contains("(2, 3)"));
}

TEST_CASE("softplus and logsigmoid: stable and differentiable at large |x|", "[autograd][elementwise]") {
  const Tensor64 x({6}, {-1000.0, -50.0, -30.0, 30.0, 50.0, 1000.0});
  Var64 v(x, true);
  const Var64 sp = softplus(v), ls = logsigmoid(v);
  for (std::size_t i = 0; i < 6; ++i) {
    const double xi = x[i];
    // softplus(x) = max(x, 0) + log1p(exp(-|x|)); logsigmoid(x) = -softplus(-x).
    REQUIRE(sp.value()[i] == Approx(std::max(xi, 0.0) + std::log1p(std::exp(-std::abs(xi)))).epsilon(1e-15));
    REQUIRE(ls.value()[i] == Approx(std::min(xi, 0.0) - std::log1p(std::exp(-std::abs(xi)))).epsilon(1e-15));
  }
  REQUIRE(sp.value()[5] == 1000.0);
  REQUIRE(ls.value()[0] == -1000.0);
  REQUIRE(sp.value()[0] >= 0.0);  // exp(-1000) underflows to 0, never below
  // Where the naive log(1 + e^x) rounds to 0, softplus keeps the tiny value e^x.
  REQUIRE(softplus(Var64(Tensor64::scalar(-700.0))).value()[0] == Approx(std::exp(-700.0)).epsilon(1e-14));
  REQUIRE(std::log(1.0 + std::exp(-700.0)) == 0.0);
  (sum(sp) + sum(ls)).backward();
  for (std::size_t i = 0; i < 6; ++i) {
    // d softplus = sigmoid(x), d logsigmoid = sigmoid(-x): they add up to exactly 1.
    REQUIRE(std::isfinite(v.grad()[i]));
    REQUIRE(v.grad()[i] == Approx(1.0).epsilon(1e-15));
  }
  REQUIRE(v.grad()[0] == 1.0);  // sigmoid(-1000) = 0 and sigmoid(1000) = 1, no 0 * inf
  // Full Jacobian away from the [-8, 8] range of the elementwise test.
  const Tensor64 far({4}, {-35.0, -20.0, 20.0, 35.0});
  require_gradcheck([](const std::vector<Var64>& in) { return softplus(in[0]); }, {far});
  require_gradcheck([](const std::vector<Var64>& in) { return logsigmoid(in[0]); }, {far});
  // float32 stays finite where exp(x) overflows.
  const Var32 spf = softplus(Var32(Tensor32({2}, {-200.f, 200.f})));
  REQUIRE(spf.value()[0] >= 0.f);
  REQUIRE(spf.value()[1] == 200.f);
}
