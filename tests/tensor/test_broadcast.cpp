// tests/tensor/test_broadcast.cpp — broadcasting rules, broadcast_to and sum_to against a
// plain multi-index reference, on the fast paths (bias shapes, scalar, rows) and general ones.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "tensor/broadcast.hpp"
#include "tensor/parallel.hpp"

using namespace fz;

namespace {

// Flat index into `small` (which broadcasts to `big`) of the element under big's flat index i.
std::size_t source_index(const Shape& small, const Shape& big, std::size_t i) {
  const std::size_t off = big.size() - small.size();
  std::size_t src = 0, stride = 1;
  for (std::size_t k = big.size(); k-- > 0;) {
    const std::size_t idx = i % big[k];
    i /= big[k];
    if (k >= off) {
      const std::size_t s = small[k - off];
      if (s != 1) src += idx * stride;
      stride *= s;
    }
  }
  return src;
}

template <typename T>
Tensor<T> ramp(const Shape& s, double scale = 0.01) {
  Tensor<T> t(s);
  for (std::size_t i = 0; i < t.numel(); ++i) t[i] = static_cast<T>(std::sin(0.37 * double(i) + 0.1) + scale * double(i % 7));
  return t;
}

template <typename T>
Tensor<T> ref_sum_to(const Tensor<T>& g, const Shape& shape) {
  std::vector<double> acc(shape_numel(shape), 0.0);
  for (std::size_t i = 0; i < g.numel(); ++i) acc[source_index(shape, g.shape(), i)] += g[i];
  Tensor<T> out(shape);
  for (std::size_t i = 0; i < acc.size(); ++i) out[i] = static_cast<T>(acc[i]);
  return out;
}

template <typename T>
void require_close(const Tensor<T>& got, const Tensor<T>& want, double rtol) {
  REQUIRE(got.shape() == want.shape());
  for (std::size_t i = 0; i < got.numel(); ++i) {
    const double w = want[i], d = std::abs(double(got[i]) - w);
    if (d > rtol * (1.0 + std::abs(w))) {
      INFO("element " << i << ": got " << got[i] << ", want " << w);
      REQUIRE(d <= rtol * (1.0 + std::abs(w)));
    }
  }
}

}  // namespace

TEST_CASE("broadcast: shapes follow NumPy rules", "[tensor][broadcast]") {
  REQUIRE(broadcast_shapes({2, 3}, {3}) == Shape{2, 3});
  REQUIRE(broadcast_shapes({2, 1, 3}, {4, 1}) == Shape{2, 4, 3});
  REQUIRE(broadcast_shapes({}, {5, 2}) == Shape{5, 2});
  REQUIRE(broadcast_shapes({8, 4, 6, 6}, {4, 1, 1}) == Shape{8, 4, 6, 6});
  REQUIRE(broadcast_shapes({1}, {0, 3}) == Shape{0, 3});
  REQUIRE(broadcast_shapes({3, 1}, {1, 3}) == Shape{3, 3});
  REQUIRE(broadcastable_to({4, 1, 1}, {2, 4, 5, 5}));
  REQUIRE_FALSE(broadcastable_to({3, 1}, {3}));
  REQUIRE_FALSE(broadcastable_to({2}, {3}));
}

TEST_CASE("broadcast: incompatible shapes name both shapes", "[tensor][broadcast]") {
  REQUIRE_THROWS_AS(broadcast_shapes({2, 3}, {4}), std::invalid_argument);
  REQUIRE_THROWS_WITH(broadcast_shapes({2, 3}, {4}),
                      Catch::Contains("(2, 3)") && Catch::Contains("(4,)"));
  REQUIRE_THROWS_WITH(make_broadcast_plan({5, 2}, {3, 1, 3}, "mul"), Catch::StartsWith("mul:"));
}

TEST_CASE("broadcast: plans collapse axes that broadcast alike", "[tensor][broadcast]") {
  const BroadcastPlan p = make_broadcast_plan({8, 4, 6, 6}, {4, 1, 1}, "add");
  REQUIRE(p.sizes == std::vector<std::size_t>{8, 4, 36});
  REQUIRE(p.a_stride == std::vector<std::size_t>{144, 36, 1});
  REQUIRE(p.b_stride == std::vector<std::size_t>{0, 1, 0});
  const BroadcastPlan q = make_broadcast_plan({2, 3, 4}, {2, 3, 4}, "add");
  REQUIRE(q.sizes == std::vector<std::size_t>{24});
  const BroadcastPlan r = make_broadcast_plan({1, 1}, {}, "add");
  REQUIRE(r.sizes.empty());
  REQUIRE(r.numel == 1);
}

TEMPLATE_TEST_CASE("broadcast: broadcast_to copies values along broadcast axes", "[tensor][broadcast]",
                   float, double) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3}, {2, 3}}, {{2, 1}, {2, 5}}, {{}, {4}}, {{1}, {3, 2}}, {{4, 1, 1}, {2, 4, 3, 3}},
      {{2, 1, 3}, {2, 4, 3}}, {{1, 7}, {300, 7}}, {{6, 1}, {6, 9000}}, {{3}, {0, 3}}};
  for (const auto& c : cases) {
    const Tensor<TestType> x = ramp<TestType>(c.first);
    const Tensor<TestType> y = broadcast_to(x, c.second);
    INFO(shape_str(c.first) << " -> " << shape_str(c.second));
    REQUIRE(y.shape() == c.second);
    for (std::size_t i = 0; i < y.numel(); ++i) REQUIRE(y[i] == x[source_index(c.first, c.second, i)]);
  }
  const Tensor<TestType> x = ramp<TestType>({2, 3});
  REQUIRE(broadcast_to(x, {2, 3}).shares_storage_with(x));
  REQUIRE(broadcast_to(x, {1, 2, 3}).shape() == Shape{1, 2, 3});
  REQUIRE_THROWS_WITH(broadcast_to(x, {3, 3}), Catch::Contains("(2, 3)") && Catch::Contains("(3, 3)"));
}

TEMPLATE_TEST_CASE("broadcast: sum_to matches a multi-index reference", "[tensor][broadcast]", float,
                   double) {
  const double tol = sizeof(TestType) == 4 ? 2e-5 : 1e-12;
  const std::vector<std::pair<Shape, Shape>> cases = {
      // (gradient shape, input shape)
      {{2, 3}, {3}},                // (F,) from (N,F)
      {{2, 3}, {2, 1}},             // row sums
      {{2, 3}, {}},                 // scalar
      {{2, 3}, {1, 1}},             // one-element, kept rank
      {{2, 4, 3}, {2, 1, 3}},       // middle axis
      {{2, 4, 3}, {4, 1}},          // (2,1,3)*(4,1) gradient for the (4,1) input
      {{4, 2, 5, 3}, {2, 1, 3}},    // general alternating pattern
      {{3, 4, 5, 6}, {4, 1, 1}},    // conv bias (C,1,1)
      {{3, 4, 5, 6}, {1, 4, 1, 1}}, // conv bias (1,C,1,1)
      {{3, 4, 5, 6}, {1, 4, 5, 6}}, // sum over the batch
      {{3, 4, 5, 6}, {3, 1, 5, 1}},
      {{5, 1, 7}, {1, 7}},          // only a leading size-1 axis differs: no summation
      {{0, 3}, {3}},                // empty gradient
      // big ones take the parallel, chunked paths
      {{100003, 2}, {2}},           // narrow rows, many of them
      {{50000, 3}, {1, 3}},
      {{40, 2000}, {2000}},         // wide rows: column-parallel
      {{16, 8, 32, 32}, {8, 1, 1}}, // (N,C,H,W) -> (C,1,1)
      {{3, 70000}, {3, 1}},         // long row sums
      {{200001}, {1}},              // full sum
  };
  for (const auto& c : cases) {
    const Tensor<TestType> g = ramp<TestType>(c.first);
    INFO(shape_str(c.first) << " -> " << shape_str(c.second));
    const Tensor<TestType> got = sum_to(g, c.second);
    const double scale = std::max(1.0, double(g.numel()) / std::max<double>(1.0, double(shape_numel(c.second))));
    require_close(got, ref_sum_to(g, c.second), tol * scale / 10 + tol);
  }
}

TEMPLATE_TEST_CASE("broadcast: sum_to shares when nothing is summed and rejects bad shapes",
                   "[tensor][broadcast]", float, double) {
  const Tensor<TestType> g = ramp<TestType>({2, 3});
  REQUIRE(sum_to(g, {2, 3}).shares_storage_with(g));
  REQUIRE(sum_to(g, {1, 2, 3}).shape() == Shape{1, 2, 3});
  REQUIRE_THROWS_AS(sum_to(g, {3, 3}), std::invalid_argument);
  REQUIRE_THROWS_WITH(sum_to(g, {2}), Catch::Contains("sum_to") && Catch::Contains("(2, 3)") &&
                                          Catch::Contains("(2,)"));
}

TEST_CASE("broadcast: sum_to does not depend on the thread count", "[tensor][broadcast]") {
  const Tensor<float> g = ramp<float>({100003, 3});
  const Tensor<float> big = ramp<float>({300001});
  const Tensor<float> a = sum_to(g, {3}), s = sum_to(big, {});
  set_num_threads(1);
  const Tensor<float> b = sum_to(g, {3}), t = sum_to(big, {});
  set_num_threads(0);
  for (std::size_t i = 0; i < 3; ++i) REQUIRE(a[i] == b[i]);
  REQUIRE(s[0] == t[0]);
}
