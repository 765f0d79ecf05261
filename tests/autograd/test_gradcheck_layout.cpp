// tests/autograd/test_gradcheck_layout.cpp — reshape, permute, transpose, slice, concat,
// split/chunk (including pieces that are never used), pad, squeeze2d, unsqueeze2d and flip on
// Var: float64 full-Jacobian gradchecks, plus exact gradients where they are easy to state.
#include <catch2/catch.hpp>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "tests/gradcheck_helpers.hpp"

using namespace fz;
using fz::test::random_uniform;
using fz::test::require_gradcheck;

TEST_CASE("gradcheck: reshape, permute, transpose, flip", "[autograd][layout]") {
  const Tensor64 x = random_uniform({2, 3, 4}, 1);
  require_gradcheck([](const std::vector<Var64>& v) { return reshape(v[0], {4, 6}); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return permute(v[0], {2, 0, 1}); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return permute(v[0], {-1, 1, 0}); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return transpose(v[0], 0, -1); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return flip(v[0], 1); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return flip(v[0], -1); }, {x});
}

TEST_CASE("gradcheck: slice and pad", "[autograd][layout]") {
  const Tensor64 x = random_uniform({2, 5, 3}, 2);
  require_gradcheck([](const std::vector<Var64>& v) { return slice(v[0], 1, 1, 4); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return slice(v[0], -1, -2, 3); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return slice(v[0], 0, 1, 2); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return pad(v[0], {{1, 2}, {0, 1}}, 3.0); }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return pad(v[0], {{1, 0}, {2, 1}, {0, 2}}); }, {x});
  const Tensor64 img = random_uniform({1, 2, 3, 3}, 3);
  require_gradcheck([](const std::vector<Var64>& v) { return pad2d(v[0], 1, 1, 1, 1); }, {img});
}

TEST_CASE("gradcheck: concat of two and three inputs", "[autograd][layout]") {
  const Tensor64 a = random_uniform({2, 1, 3}, 4), b = random_uniform({2, 2, 3}, 5), c = random_uniform({2, 3, 3}, 6);
  require_gradcheck([](const std::vector<Var64>& v) { return concat(v, 1); }, {a, b, c});
  require_gradcheck([](const std::vector<Var64>& v) { return concat({v[0], v[1]}, -2); }, {a, b});
  const Tensor64 d = random_uniform({2, 2, 3}, 7);
  require_gradcheck([](const std::vector<Var64>& v) { return concat({v[0], v[1]}, 0); }, {b, d});
  require_gradcheck([](const std::vector<Var64>& v) { return concat({v[0], v[0]}, 2); }, {a});  // reused input
}

TEST_CASE("gradcheck: split and chunk, all pieces used and some unused", "[autograd][layout]") {
  const Tensor64 x = random_uniform({2, 6, 2}, 8);
  // All pieces recombined in another order.
  require_gradcheck([](const std::vector<Var64>& v) {
    auto p = split(v[0], {1, 3, 2}, 1);
    return concat({p[2], p[0], p[1]}, 1);
  }, {x});
  // Only the middle piece is used: the others get no gradient and must count as zeros.
  require_gradcheck([](const std::vector<Var64>& v) { return split(v[0], {1, 3, 2}, 1)[1]; }, {x});
  // Only the first / only the last piece.
  require_gradcheck([](const std::vector<Var64>& v) { return chunk(v[0], 2, 1)[0]; }, {x});
  require_gradcheck([](const std::vector<Var64>& v) { return chunk(v[0], 4, -2)[2]; }, {x});
  // A piece used twice, another once through a reduction.
  require_gradcheck([](const std::vector<Var64>& v) {
    auto p = chunk(v[0], 2, -1);
    return concat({p[1], p[1], sum(p[0], -1, true)}, -1);
  }, {x});
}

TEST_CASE("gradcheck: squeeze2d and unsqueeze2d", "[autograd][layout]") {
  const Tensor64 x = random_uniform({2, 2, 4, 2}, 9);
  require_gradcheck([](const std::vector<Var64>& v) { return squeeze2d(v[0]); }, {x});
  const Tensor64 y = random_uniform({1, 8, 2, 3}, 10);
  require_gradcheck([](const std::vector<Var64>& v) { return unsqueeze2d(v[0]); }, {y});
  require_gradcheck([](const std::vector<Var64>& v) { return unsqueeze2d(squeeze2d(v[0])); }, {x});
}

TEST_CASE("layout ops: split gradients land in the right place", "[autograd][layout]") {
  Var64 x(Tensor64({1, 5}, {1, 2, 3, 4, 5}), true);
  auto p = split(x, {2, 1, 2}, 1);
  REQUIRE(p.size() == 3);
  REQUIRE(p[2].value().to_vector() == std::vector<double>{4, 5});
  sum(p[2]).backward();
  REQUIRE(x.grad().to_vector() == std::vector<double>{0, 0, 0, 1, 1});
  REQUIRE(Tape<double>::current().size() == 0);
  x.zero_grad();
  auto q = chunk(x, 2, 1);  // sizes 3, 2
  Var64 s = sum(concat({q[1], q[0]}, 1) , {0, 1});
  s.backward();
  REQUIRE(x.grad().to_vector() == std::vector<double>{1, 1, 1, 1, 1});
}

TEST_CASE("layout ops: inputs that need no gradient get none", "[autograd][layout]") {
  Var64 a(Tensor64({2}, {1, 2}), true);
  Var64 b(Tensor64({3}, {3, 4, 5}), false);
  Var64 c = concat({a, b}, 0);
  REQUIRE(c.value().to_vector() == std::vector<double>{1, 2, 3, 4, 5});
  sum(c).backward();
  REQUIRE(a.grad().to_vector() == std::vector<double>{1, 1});
  REQUIRE(!b.grad().defined());
  REQUIRE(!squeeze2d(Var64(Tensor64({1, 1, 2, 2}), false)).requires_grad());
  for (const Var64& piece : split(b, {1, 2}, 0)) REQUIRE(!piece.requires_grad());
  REQUIRE(Tape<double>::current().size() == 0);
  Var32 f(Tensor32({1, 1, 2, 2}, {1, 2, 3, 4}), true);
  Var32 sq = squeeze2d(f);
  sq.backward(Tensor32({1, 4, 1, 1}, {10, 20, 30, 40}));
  REQUIRE(f.grad().to_vector() == std::vector<float>{10, 20, 30, 40});
  REQUIRE_THROWS_AS(reshape(f, {3}), std::invalid_argument);
}
