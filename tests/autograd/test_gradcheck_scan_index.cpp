// tests/autograd/test_gradcheck_scan_index.cpp — cumsum, searchsorted, gather and where: float64
// full-Jacobian gradchecks (cumsum, gather in x, where in both branches with broadcasting),
// values against plain loops, the bin conventions of searchsorted (clamping, the top edge, NaN)
// and the invalid_argument errors for bad axes, shapes, indices and masks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_index.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "autograd/ops_scan.hpp"
#include "tests/gradcheck_helpers.hpp"

using namespace fz;
using fz::test::random_uniform;
using fz::test::require_gradcheck;

TEST_CASE("cumsum: values and full-Jacobian gradcheck on every axis", "[autograd][scan]") {
  const Tensor64 x = random_uniform({2, 3, 4}, 21);
  for (int axis : {0, 1, 2, -1, -2}) {
    INFO("axis " << axis);
    require_gradcheck([axis](const std::vector<Var64>& v) { return cumsum(v[0], axis); }, {x});
  }
  const Var64 y = cumsum(Var64(x), 1);
  for (std::size_t a = 0; a < 2; ++a)
    for (std::size_t c = 0; c < 4; ++c) {
      double acc = 0.0;
      for (std::size_t b = 0; b < 3; ++b) {
        acc += x.at({a, b, c});
        REQUIRE(y.value().at({a, b, c}) == Approx(acc).epsilon(1e-15));
      }
    }
  // Backward is the reverse cumsum: for g = 1, dx_k = n - k.
  Var64 v(Tensor64({4}, {1.0, 2.0, 3.0, 4.0}), true);
  cumsum(v, 0).backward(Tensor64({4}, 1.0));
  REQUIRE(v.grad().to_vector() == std::vector<double>{4.0, 3.0, 2.0, 1.0});
  // float accumulates in double: 1e6 ones sum exactly.
  const Var32 big = cumsum(Var32(Tensor32({1000000}, 1.0f)), 0);
  REQUIRE(big.value()[999999] == 1.0e6f);
  REQUIRE_THROWS_AS(cumsum(Var64(x), 3), std::invalid_argument);
  REQUIRE_THROWS_AS(cumsum(Var64(Tensor64::scalar(1.0)), 0), std::invalid_argument);
}

TEST_CASE("searchsorted: bins with clamping along the last axis", "[autograd][index]") {
  // Two rows of 4 edges (3 bins each).
  const Tensor64 edges({2, 4}, {0.0, 1.0, 2.0, 3.0, -1.0, 0.0, 0.5, 10.0});
  const Tensor64 values({2, 5}, {-5.0, 0.0, 1.0, 2.5, 3.0, -0.5, 0.25, 0.5, 9.99, 11.0});
  const IndexTensor bins = searchsorted(edges, values);
  REQUIRE(bins.shape == values.shape());
  // Below the first edge -> 0; edges[i] <= v < edges[i+1] -> i; at/above the last edge -> 2.
  REQUIRE(bins.values == std::vector<std::size_t>{0, 0, 1, 2, 2, 0, 1, 2, 2, 2});
  // Against a plain linear scan on random data (float too).
  const Tensor32 e32({3, 6}, {-2, -1, 0, 1, 2, 3, 0, 0.1f, 0.2f, 0.4f, 0.8f, 1.6f, -3, -2.5f, 0, 2, 2.5f, 3});
  const Tensor32 v32 = random_uniform({3, 7}, 22, -3.5, 3.5).cast<float>();
  const IndexTensor b32 = searchsorted(Var32(e32), Var32(v32));
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t m = 0; m < 7; ++m) {
      const float v = v32[r * 7 + m];
      std::size_t expect = 0;
      for (std::size_t i = 0; i < 5; ++i)
        if (e32[r * 6 + i] <= v) expect = i;
      REQUIRE(b32[r * 7 + m] == expect);
    }
  // NaN gets bin 0; a single bin always gives 0.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  REQUIRE(searchsorted(Tensor64({1, 3}, {0, 1, 2}), Tensor64({1, 1}, {nan})).values[0] == 0);
  REQUIRE(searchsorted(Tensor64({1, 2}, {0, 1}), Tensor64({1, 2}, {5, -5})).values ==
          std::vector<std::size_t>{0, 0});
  // Errors: fewer than 2 edges, mismatched leading axes, different ranks.
  REQUIRE_THROWS_AS(searchsorted(Tensor64({2, 1}, 0.0), Tensor64({2, 1}, 0.0)), std::invalid_argument);
  REQUIRE_THROWS_AS(searchsorted(Tensor64({2, 3}, 0.0), Tensor64({3, 1}, 0.0)), std::invalid_argument);
  REQUIRE_THROWS_WITH(searchsorted(Tensor64({2, 3}, 0.0), Tensor64({2}, 0.0)),
                      Catch::Contains("edges (2, 3)") && Catch::Contains("values (2,)"));
}

TEST_CASE("gather: values, scatter-add gradient, full-Jacobian gradcheck", "[autograd][index]") {
  const Tensor64 x = random_uniform({2, 4, 3}, 23);
  // Pick along axis 1 with repeats (index 2 twice in one line): 5 picks per line.
  IndexTensor idx{{2, 5, 3}, {}};
  for (std::size_t k = 0; k < 30; ++k) idx.values.push_back((k * 7 + k / 3) % 4);
  const Var64 y = gather(Var64(x), 1, idx);
  REQUIRE(y.shape() == Shape{2, 5, 3});
  for (std::size_t a = 0; a < 2; ++a)
    for (std::size_t j = 0; j < 5; ++j)
      for (std::size_t c = 0; c < 3; ++c)
        REQUIRE(y.value().at({a, j, c}) == x.at({a, idx[(a * 5 + j) * 3 + c], c}));
  require_gradcheck([idx](const std::vector<Var64>& v) { return gather(v[0], 1, idx); }, {x});
  require_gradcheck([idx](const std::vector<Var64>& v) { return gather(v[0], -2, idx); }, {x});
  // Last axis, one pick per line (the spline use: a bin's knot per element).
  IndexTensor last{{2, 4, 1}, {0, 2, 1, 1, 2, 0, 0, 0}};
  require_gradcheck([last](const std::vector<Var64>& v) { return gather(v[0], -1, last); }, {x});
  // Repeated picks add up in the gradient.
  Var64 w(Tensor64({3}, {1, 2, 3}), true);
  gather(w, 0, IndexTensor{{4}, {2, 2, 0, 2}}).backward(Tensor64({4}, {1, 10, 100, 1000}));
  REQUIRE(w.grad().to_vector() == std::vector<double>{100, 0, 1011});
  // Errors.
  REQUIRE_THROWS_AS(gather(Var64(x), 3, idx), std::invalid_argument);
  REQUIRE_THROWS_AS(gather(Var64(x), 0, idx), std::invalid_argument);  // axis 1 sizes differ
  REQUIRE_THROWS_AS(gather(Var64(x), 1, IndexTensor{{2, 5}, std::vector<std::size_t>(10)}), std::invalid_argument);
  REQUIRE_THROWS_AS(gather(Var64(x), 1, IndexTensor{{2, 5, 3}, std::vector<std::size_t>(29)}), std::invalid_argument);
  IndexTensor bad = idx;
  bad.values[7] = 4;
  REQUIRE_THROWS_WITH(gather(Var64(x), 1, bad), Catch::Contains("index 4 is out of range"));
}

TEST_CASE("where: selection, one-sided gradients, broadcasting, gradcheck", "[autograd][index]") {
  const Tensor64 cond({2, 3}, {1, 0, 1, 0, 0, 1});
  const Tensor64 a = random_uniform({2, 3}, 24), b = random_uniform({2, 3}, 25);
  const Var64 y = where(cond, Var64(a), Var64(b));
  for (std::size_t k = 0; k < 6; ++k) REQUIRE(y.value()[k] == (cond[k] == 1 ? a[k] : b[k]));
  require_gradcheck([cond](const std::vector<Var64>& v) { return where(cond, v[0], v[1]); }, {a, b});
  // Broadcast: a (3,), b scalar, condition (2, 1) -> (2, 3).
  const Tensor64 c21({2, 1}, {0, 1});
  require_gradcheck([c21](const std::vector<Var64>& v) { return where(c21, v[0], v[1]); },
        {random_uniform({3}, 26), Tensor64::scalar(0.7)});
  require_gradcheck([cond](const std::vector<Var64>& v) { return where(cond, v[0] * v[0], v[1]); },
        {random_uniform({3}, 27), random_uniform({2, 1}, 28)});
  // The unselected side gets exactly zero, even where its value is inf (no 0 * inf = NaN).
  const double inf = std::numeric_limits<double>::infinity();
  Var64 pa(Tensor64({3}, {1, 2, 3}), true), pb(Tensor64({3}, {inf, 5, inf}), true);
  const Var64 s = where(Tensor64({3}, {1, 0, 1}), pa, log(pb));
  REQUIRE(s.value().to_vector() == std::vector<double>{1, std::log(5.0), 3});
  s.backward(Tensor64({3}, {1, 1, 1}));
  REQUIRE(pa.grad().to_vector() == std::vector<double>{1, 0, 1});
  REQUIRE(pb.grad()[0] == 0.0);
  REQUIRE(pb.grad()[1] == Approx(0.2));
  // Errors: a non 0/1 mask, shapes that do not broadcast.
  REQUIRE_THROWS_WITH(where(Tensor64({3}, {1, 0.5, 0}), pa, pa), Catch::Contains("only 0 and 1"));
  REQUIRE_THROWS_AS(where(Tensor64({4}, 1.0), pa, pa), std::invalid_argument);
  // float instantiation.
  const Var32 f = where(Tensor32({2}, {0, 1}), Var32(Tensor32({2}, {1, 2})), Var32(Tensor32({2}, {3, 4})));
  REQUIRE(f.value().to_vector() == std::vector<float>{3, 2});
}

TEST_CASE("searchsorted + gather + cumsum: a spline's bin lookup is differentiable in the widths",
          "[autograd][index]") {
  // Knots from unnormalised widths: edges = cumsum(w) with a 0 in front; each value looks up
  // its bin and the bin's left edge and width. The bin index is constant under a small
  // perturbation (values are kept away from the edges), so the gradient flows through gather.
  const Tensor64 w({2, 3}, {1.0, 2.0, 1.0, 0.5, 0.5, 3.0});
  const Tensor64 v({2, 1}, {2.5, 0.7});
  auto left_edge_and_width = [v](const std::vector<Var64>& in) {
    const Var64 edges = concat({Var64(Tensor64({2, 1}, 0.0)), cumsum(in[0], 1)}, 1);  // (2, 4)
    const IndexTensor bin = searchsorted(edges.value(), v);
    return concat({gather(edges, 1, bin), gather(in[0], 1, bin)}, 1);
  };
  const Var64 out = left_edge_and_width({Var64(w)});
  // Row 0: edges 0, 1, 3, 4 -> 2.5 in bin 1 (left edge 1, width 2); row 1: 0, .5, 1, 4 -> bin 1.
  REQUIRE(out.value().to_vector() == std::vector<double>{1.0, 2.0, 0.5, 0.5});
  require_gradcheck(left_edge_and_width, {w});
}
