// tests/autograd/test_gradcheck_reduce.cpp — sum, mean, max, logsumexp on Var: float64
// full-Jacobian gradchecks for the all-elements form and for axis sets with and without
// keepdim (negative axes included), plus exact gradients on hand-made cases (max ties).
#include <catch2/catch.hpp>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_reduce.hpp"
#include "tests/gradcheck_helpers.hpp"

using namespace fz;
using fz::test::random_uniform;
using fz::test::require_gradcheck;

namespace {

// (axes, keepdim) cases on a (2, 3, 4) input.
const std::vector<std::pair<std::vector<int>, bool>> kAxisCases = {
    {{0}, false}, {{1}, true}, {{-1}, false}, {{0, 2}, false}, {{2, 0}, true},
    {{1, 2}, false}, {{0, 1, 2}, true}, {{}, false}};

}  // namespace

TEST_CASE("gradcheck: sum and mean over everything", "[autograd][reduce]") {
  const Tensor64 x = random_uniform({2, 3, 4}, 1);
  require_gradcheck([](const std::vector<Var64>& v) { return sum(v[0]); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return mean(v[0]); }, {x});
}

TEST_CASE("gradcheck: sum and mean over axes with keepdim", "[autograd][reduce]") {
  const Tensor64 x = random_uniform({2, 3, 4}, 2);
  for (const auto& c : kAxisCases) {
    const std::vector<int> axes = c.first;
    const bool keep = c.second;
    INFO("axes size " << axes.size() << " keepdim " << keep);
    require_gradcheck([&](const std::vector<Var64>& v) { return sum(v[0], axes, keep); }, {x});
    require_gradcheck([&](const std::vector<Var64>& v) { return mean(v[0], axes, keep); }, {x});
  }
  require_gradcheck([](const std::vector<Var64>& v) { return sum(v[0], -2, true); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return mean(v[0], 1); }, {x});
}

TEST_CASE("gradcheck: max over everything and over axes", "[autograd][reduce]") {
  const Tensor64 x = random_uniform({2, 3, 4}, 3);  // distinct values: max is differentiable
  require_gradcheck([](const std::vector<Var64>& v) { return max(v[0]); }, {x});
  for (const auto& c : kAxisCases) {
    const std::vector<int> axes = c.first;
    const bool keep = c.second;
    require_gradcheck([&](const std::vector<Var64>& v) { return max(v[0], axes, keep); }, {x});
  }
  require_gradcheck([](const std::vector<Var64>& v) { return max(v[0], -1, true); }, {x});
}

TEST_CASE("gradcheck: logsumexp over everything and over axes", "[autograd][reduce]") {
  const Tensor64 x = random_uniform({2, 3, 4}, 4);
  require_gradcheck([](const std::vector<Var64>& v) { return logsumexp(v[0]); }, {x});
  for (const auto& c : kAxisCases) {
    const std::vector<int> axes = c.first;
    const bool keep = c.second;
    require_gradcheck([&](const std::vector<Var64>& v) { return logsumexp(v[0], axes, keep); }, {x});
  }
  require_gradcheck([](const std::vector<Var64>& v) { return logsumexp(v[0], 0, true); }, {x});
}

TEST_CASE("reduce ops: max sends the gradient to the first maximum only", "[autograd][reduce]") {
  Var64 x(Tensor64({2, 3}, {1, 5, 5, 2, 2, 0}), true);
  Var64 m = max(x, 1);
  REQUIRE(m.value().to_vector() == std::vector<double>{5, 2});
  m.backward(Tensor64({2}, {10, 20}));
  REQUIRE(x.grad().to_vector() == std::vector<double>{0, 10, 0, 20, 0, 0});
  Var64 y(Tensor64({3}, {4, 4, 4}), true);
  max(y).backward();
  REQUIRE(y.grad().to_vector() == std::vector<double>{1, 0, 0});
}

TEST_CASE("reduce ops: exact gradients of sum, mean and logsumexp", "[autograd][reduce]") {
  Var64 x(Tensor64({2, 2}, {0, 0, 1, 3}), true);
  mean(x, 0, true).backward(Tensor64({1, 2}, {4, 8}));
  REQUIRE(x.grad().to_vector() == std::vector<double>{2, 4, 2, 4});
  x.zero_grad();
  sum(x, {0, 1}).backward();
  REQUIRE(x.grad().to_vector() == std::vector<double>{1, 1, 1, 1});
  x.zero_grad();
  logsumexp(x, 1).backward(Tensor64({2}, {1, 1}));
  REQUIRE(x.grad()[0] == Approx(0.5));
  REQUIRE(x.grad()[1] == Approx(0.5));
  REQUIRE(x.grad()[2] + x.grad()[3] == Approx(1.0));
  REQUIRE(x.grad()[3] == Approx(std::exp(3.0) / (std::exp(1.0) + std::exp(3.0))));
}

TEST_CASE("reduce ops: float32 works and nothing is recorded without grad", "[autograd][reduce]") {
  Var32 x(Tensor32({2, 3}, {1, 2, 3, 4, 5, 6}), true);
  Var32 s = sum(mean(x, -1));
  REQUIRE(s.value().item() == Approx(7.0f));
  s.backward();
  for (float g : x.grad()) REQUIRE(g == Approx(1.0f / 3.0f));
  Var32 c(Tensor32({2}, {1, 2}), false);
  REQUIRE(!sum(c).requires_grad());
  REQUIRE(Tape<float>::current().size() == 0);
  {
    NoGradGuard guard;
    REQUIRE(!logsumexp(x, 0).requires_grad());
  }
  REQUIRE(Tape<float>::current().size() == 0);
}
