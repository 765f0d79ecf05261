// tests/autograd/test_gradcheck_elementwise.cpp — every elementwise differentiable op against
// full-Jacobian central differences in float64 (including broadcast inputs, whose gradients go
// through sum_to), plus float32 forward spot checks and the operator overloads.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "tests/gradcheck_helpers.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "tensor/broadcast.hpp"

using namespace fz;

namespace {

using fz::test::nonzero;
using fz::test::values;

void require_gradcheck(const std::string& what, const VarFunction64& f, const std::vector<Tensor64>& in) {
  const GradcheckResult r = gradcheck(f, in);
  INFO(what << ": " << r.message);
  REQUIRE(r.ok);
  REQUIRE(r.entries_checked > 0);
}

using Ins = const std::vector<Var64>&;

// Shape pairs for the broadcasting binary ops.
const std::vector<std::pair<Shape, Shape>> kBroadcastPairs = {
    {{2, 3}, {2, 3}},        // same shape
    {{2, 3}, {3}},           // (N,F) op (F,)
    {{3}, {2, 3}},           // broadcast on the left
    {{2, 1, 3}, {4, 1}},     // both sides broadcast
    {{2, 3, 2, 2}, {3, 1, 1}},  // (N,C,H,W) op (C,1,1)
    {{2, 3, 2, 2}, {1, 3, 1, 1}},
    {{2, 3}, {}},            // scalar
    {{}, {2, 3}},
    {{2, 3}, {2, 1}},
};

}  // namespace

TEST_CASE("gradcheck elementwise: add, sub, mul, div with broadcasting", "[autograd][elementwise]") {
  for (const auto& pr : kBroadcastPairs) {
    const Tensor64 a = values(pr.first, -2, 2, 1), b = values(pr.second, 0.5, 2, 2);
    const std::string shapes = shape_str(pr.first) + " with " + shape_str(pr.second);
    require_gradcheck("add " + shapes, [](Ins v) { return add(v[0], v[1]); }, {a, b});
    require_gradcheck("sub " + shapes, [](Ins v) { return sub(v[0], v[1]); }, {a, b});
    require_gradcheck("mul " + shapes, [](Ins v) { return mul(v[0], v[1]); }, {a, b});
    require_gradcheck("div " + shapes, [](Ins v) { return div(v[0], v[1]); }, {a, b});
    require_gradcheck("div reversed " + shapes, [](Ins v) { return div(v[1], v[0] * v[0] + 1.0); }, {a, b});
  }
}

TEST_CASE("gradcheck elementwise: maximum and minimum away from ties", "[autograd][elementwise]") {
  for (const auto& pr : kBroadcastPairs) {
    const Tensor64 a = values(pr.first, -2, 2, 3), b = values(pr.second, -1.9, 1.9, 4);
    const std::string shapes = shape_str(pr.first) + " with " + shape_str(pr.second);
    require_gradcheck("maximum " + shapes, [](Ins v) { return maximum(v[0], v[1]); }, {a, b});
    require_gradcheck("minimum " + shapes, [](Ins v) { return minimum(v[0], v[1]); }, {a, b});
  }
}

TEST_CASE("gradcheck elementwise: maximum splits the gradient at ties", "[autograd][elementwise]") {
  Var64 a(Tensor64({3}, {1.0, 2.0, 3.0}), true), b(Tensor64({3}, {1.0, 5.0, 0.0}), true);
  Var64 m = maximum(a, b);
  m.backward(Tensor64({3}, {1.0, 1.0, 1.0}));
  REQUIRE(a.grad()[0] == 0.5);
  REQUIRE(b.grad()[0] == 0.5);
  REQUIRE(a.grad()[1] == 0.0);
  REQUIRE(b.grad()[1] == 1.0);
  REQUIRE(a.grad()[2] == 1.0);
}

TEST_CASE("gradcheck elementwise: smooth unary ops", "[autograd][elementwise]") {
  const Tensor64 x = values({2, 3, 4}, -2.5, 2.5, 1);
  const Tensor64 pos = values({2, 3, 4}, 0.3, 3.0, 2);
  require_gradcheck("neg", [](Ins v) { return neg(v[0]); }, {x});
  require_gradcheck("exp", [](Ins v) { return exp(v[0]); }, {x});
  require_gradcheck("log", [](Ins v) { return log(v[0]); }, {pos});
  require_gradcheck("log1p", [](Ins v) { return log1p(v[0]); }, {values({7}, -0.5, 3, 3)});
  require_gradcheck("sqrt", [](Ins v) { return sqrt(v[0]); }, {pos});
  require_gradcheck("pow 3", [](Ins v) { return pow(v[0], 3.0); }, {x});
  require_gradcheck("pow -1.5", [](Ins v) { return pow(v[0], -1.5); }, {pos});
  require_gradcheck("pow 0.5", [](Ins v) { return pow(v[0], 0.5); }, {pos});
  require_gradcheck("square", [](Ins v) { return square(v[0]); }, {x});
  require_gradcheck("tanh", [](Ins v) { return tanh(v[0]); }, {x});
  require_gradcheck("sigmoid", [](Ins v) { return sigmoid(v[0]); }, {x});
  require_gradcheck("logsigmoid", [](Ins v) { return logsigmoid(v[0]); }, {values({9}, -8, 8, 4)});
  require_gradcheck("softplus", [](Ins v) { return softplus(v[0]); }, {values({9}, -8, 8, 5)});
}

TEST_CASE("gradcheck elementwise: piecewise ops away from their kinks", "[autograd][elementwise]") {
  const Tensor64 x = nonzero({3, 5}, 1);
  require_gradcheck("relu", [](Ins v) { return relu(v[0]); }, {x});
  require_gradcheck("abs", [](Ins v) { return abs(v[0]); }, {x});
  require_gradcheck("leaky_relu", [](Ins v) { return leaky_relu(v[0], 0.2); }, {x});
  require_gradcheck("elu", [](Ins v) { return elu(v[0], 1.3); }, {x});
  // Bounds chosen so no value of x sits within eps of them.
  require_gradcheck("clamp", [](Ins v) { return clamp(v[0], -1.05, 0.95); }, {x});
  require_gradcheck("clamp inside", [](Ins v) { return clamp(v[0], -5.0, 5.0); }, {x});
}

TEST_CASE("gradcheck elementwise: scalar operators with a non-deduced scalar", "[autograd][elementwise]") {
  const Tensor64 x = values({4, 3}, 0.4, 2.5, 7);
  require_gradcheck("v*2", [](Ins v) { return v[0] * 2.0; }, {x});
  require_gradcheck("2*v", [](Ins v) { return 2.0 * v[0]; }, {x});
  require_gradcheck("v+1.5", [](Ins v) { return v[0] + 1.5; }, {x});
  require_gradcheck("1.5+v", [](Ins v) { return 1.5 + v[0]; }, {x});
  require_gradcheck("v-1", [](Ins v) { return v[0] - 1.0; }, {x});
  require_gradcheck("1.5-v", [](Ins v) { return 1.5 - v[0]; }, {x});
  require_gradcheck("v/4", [](Ins v) { return v[0] / 4.0; }, {x});
  require_gradcheck("3/v", [](Ins v) { return 3.0 / v[0]; }, {x});
  require_gradcheck("-v", [](Ins v) { return -v[0]; }, {x});
}

TEST_CASE("gradcheck elementwise: composed expressions and reused inputs", "[autograd][elementwise]") {
  const Tensor64 x = values({2, 3, 2, 2}, -1.5, 1.5, 1);
  const Tensor64 s = values({3, 1, 1}, 0.5, 1.5, 2), t = values({1, 3, 1, 1}, -1, 1, 3);
  // Glow-style affine: y = x * sigmoid(s + 2) + t, with the per-channel parameters broadcast.
  require_gradcheck("affine", [](Ins v) { return v[0] * sigmoid(v[1] + 2.0) + v[2]; }, {x, s, t});
  // x used three times: gradients from every use must add up.
  require_gradcheck("reuse", [](Ins v) { return tanh(v[0]) * v[0] - exp(v[0] * 0.5) / (v[0] * v[0] + 1.0); }, {x});
  require_gradcheck("logsigmoid chain", [](Ins v) { return logsigmoid(v[0] * v[1]) + softplus(-v[0]); }, {x, s});
}

TEST_CASE("gradcheck elementwise: only inputs that require grad receive one", "[autograd][elementwise]") {
  Var64 a(values({2, 3}, -1, 1, 1), false), b(values({3}, 0.5, 2, 2), true);
  Var64 y = div(mul(a, b), b + 1.0);
  y.backward(Tensor64({2, 3}, 1.0));
  REQUIRE_FALSE(a.grad().defined());
  REQUIRE(b.grad().defined());
  REQUIRE(b.grad().shape() == Shape{3});
  // d/db sum_n a_n b / (b + 1) = sum_n a_n / (b+1)^2
  for (std::size_t j = 0; j < 3; ++j) {
    const double bj = b.value()[j];
    const double want = (a.value()[j] + a.value()[3 + j]) / ((bj + 1) * (bj + 1));
    REQUIRE(b.grad()[j] == Approx(want));
  }
  {
    NoGradGuard guard;
    Var64 z = exp(b) * b;
    REQUIRE_FALSE(z.requires_grad());
  }
}

TEST_CASE("elementwise ops: float32 forward values match float64", "[autograd][elementwise]") {
  const Tensor64 x64 = values({5, 4}, -3, 3, 1), c64 = values({4}, 0.5, 2, 2);
  const Var32 x(x64.cast<float>(), true), c(c64.cast<float>(), true);
  // Scalars are plain doubles: the non-deduced scalar parameter converts them to float.
  const Var32 y = sigmoid(x * 2.0) * c + softplus(x) - 1.0 / (c + 0.5) + relu(x) * 0.5;
  REQUIRE(y.shape() == Shape{5, 4});
  for (std::size_t n = 0; n < 5; ++n)
    for (std::size_t j = 0; j < 4; ++j) {
      const double xv = x64.at({n, j}), cv = c64[j];
      const double want = cv / (1 + std::exp(-2 * xv)) + std::log1p(std::exp(xv)) - 1 / (cv + 0.5) +
                          0.5 * std::max(xv, 0.0);
      REQUIRE(double(y.value().at({n, j})) == Approx(want).epsilon(1e-5));
    }
  const Var32 z = tanh(x) + exp(x) / c - log(c) + pow(c, 2.0) + clamp(x, -1.0, 1.0) - abs(x);
  for (std::size_t i = 0; i < 20; ++i) {
    const double xv = x64[i], cv = c64[i % 4];
    const double want = std::tanh(xv) + std::exp(xv) / cv - std::log(cv) + cv * cv +
                        std::min(std::max(xv, -1.0), 1.0) - std::abs(xv);
    REQUIRE(double(z.value()[i]) == Approx(want).epsilon(1e-5));
  }
  // And a float32 backward through a broadcast: d/dc sum(x * c) = sum over rows of x.
  const Var32 w = x * c;
  w.backward(Tensor32({5, 4}, 1.0f));
  for (std::size_t j = 0; j < 4; ++j) {
    double s = 0;
    for (std::size_t n = 0; n < 5; ++n) s += x64.at({n, j});
    REQUIRE(double(c.grad()[j]) == Approx(s).epsilon(1e-5).margin(1e-5));
  }
}
