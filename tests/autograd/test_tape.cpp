// tests/autograd/test_tape.cpp — the tape mechanism itself, with ops written inside the test
// (plain loops) so it depends on nothing but Var, record_op and the tape.
#include <catch2/catch.hpp>

#include "autograd/gradcheck.hpp"
#include "autograd/var.hpp"

using namespace fz;

namespace {

// y = x * x elementwise; dy/dx = 2x.
template <typename T>
Var<T> square(const Var<T>& x) {
  Tensor<T> y = x.value().clone();
  for (auto& v : y) v *= v;
  return record_op("square", y, {x}, [x](const Tensor<T>& g) {
    Tensor<T> dx = g.clone();
    for (std::size_t i = 0; i < dx.numel(); ++i) dx[i] *= T(2) * x.value()[i];
    x.accumulate_grad(std::move(dx));
  });
}

// s = sum(a * b) for same-shaped a, b; ds/da = b, ds/db = a.
template <typename T>
Var<T> dot(const Var<T>& a, const Var<T>& b) {
  T s = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) s += a.value()[i] * b.value()[i];
  return record_op("dot", Tensor<T>::scalar(s), {a, b}, [a, b](const Tensor<T>& g) {
    Tensor<T> da = b.value().clone(), db = a.value().clone();
    for (auto& v : da) v *= g[0];
    for (auto& v : db) v *= g[0];
    a.accumulate_grad(std::move(da));
    b.accumulate_grad(std::move(db));
  });
}

}  // namespace

TEST_CASE("tape: one reverse pass gives the chain rule, then the tape is empty", "[autograd]") {
  Var64 x(Tensor64({3}, {1, 2, 3}), true);
  Var64 w(Tensor64({3}, {0.5, -1, 2}), true);
  Var64 y = dot(square(x), w);  // sum w * x^2
  REQUIRE(Tape<double>::current().size() == 2);
  REQUIRE(y.value().item() == Approx(0.5 - 4 + 18));
  y.backward();
  REQUIRE(Tape<double>::current().size() == 0);
  // d/dx = 2 w x, d/dw = x^2
  REQUIRE(x.grad()[0] == Approx(1.0));
  REQUIRE(x.grad()[1] == Approx(-4.0));
  REQUIRE(x.grad()[2] == Approx(12.0));
  REQUIRE(w.grad()[2] == Approx(9.0));
}

TEST_CASE("tape: a variable used twice accumulates both contributions", "[autograd]") {
  Var64 x(Tensor64({2}, {3, -1}), true);
  Var64 y = dot(x, x);  // |x|^2, gradient 2x, both branches hand the same g buffer
  y.backward();
  REQUIRE(x.grad()[0] == Approx(6.0));
  REQUIRE(x.grad()[1] == Approx(-2.0));
}

TEST_CASE("tape: leaf gradients add up across passes until zero_grad", "[autograd]") {
  Var64 x(Tensor64({1}, {2}), true);
  dot(x, x).backward();
  dot(x, x).backward();
  REQUIRE(x.grad()[0] == Approx(8.0));
  x.zero_grad();
  REQUIRE(!x.grad().defined());
  dot(x, x).backward();
  REQUIRE(x.grad()[0] == Approx(4.0));
}

TEST_CASE("tape: backward twice and non-scalar backward are clear errors", "[autograd]") {
  Var64 x(Tensor64({2}, {1, 2}), true);
  Var64 y = dot(x, x);
  y.backward();
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("already consumed"));
  Var64 v = square(x);
  REQUIRE_THROWS_WITH(v.backward(), Catch::Contains("scalar"));
  v.backward(Tensor64({2}, {1, 1}));
  REQUIRE(x.grad()[1] == Approx(2 * 2.0 + 4.0));  // 4 from the first pass + 2x
  Var64 c(Tensor64({1}, {1.0}), false);
  REQUIRE_THROWS_WITH(dot(c, c).backward(), Catch::Contains("does not require grad"));
}

TEST_CASE("tape: a value from a consumed graph cannot feed a new graph silently", "[autograd]") {
  Var64 w(Tensor64({2}, {1, 2}), true);
  Var64 h = square(w);  // non-leaf, recorded in this pass
  dot(h, h).backward();
  // h's node is gone from the tape: a new loss through h would never reach w. Refused:
  REQUIRE_THROWS_WITH(dot(h, w), Catch::Contains("dot") && Catch::Contains("earlier forward pass"));
  // Recomputing it in the new pass works, and so does using it as a constant.
  w.zero_grad();
  Var64 h2 = square(w);
  dot(h2, w).backward();  // d/dw sum(w^2 * w) = 3 w^2
  REQUIRE(w.grad()[1] == Approx(12.0));
  w.zero_grad();
  dot(h.detach(), w).backward();  // d/dw sum(c * w) = c
  REQUIRE(w.grad()[1] == Approx(4.0));
}

TEST_CASE("tape: no-grad guard records nothing and restores recording", "[autograd]") {
  Var64 x(Tensor64({2}, {1, 2}), true);
  {
    NoGradGuard guard;
    Var64 y = square(x);
    REQUIRE(!y.requires_grad());
    REQUIRE(Tape<double>::current().size() == 0);
  }
  REQUIRE(GradMode::enabled());
  Var64 y = square(x);
  REQUIRE(y.requires_grad());
  REQUIRE(Tape<double>::current().size() == 1);
  Tape<double>::current().clear();
}

TEST_CASE("tape: capacity is reused between iterations", "[autograd]") {
  Var64 x(Tensor64({4}, 1.0), true);
  for (int it = 0; it < 3; ++it) {
    Var64 h = x;
    for (int k = 0; k < 50; ++k) h = square(h);
    dot(h, h).backward();
  }
  const std::size_t cap = Tape<double>::current().capacity();
  REQUIRE(cap >= 51);
  Var64 h = x;
  for (int k = 0; k < 50; ++k) h = square(h);
  dot(h, h).backward();
  REQUIRE(Tape<double>::current().capacity() == cap);
}

TEST_CASE("gradcheck: passes a correct op and catches a wrong one", "[autograd]") {
  Tensor64 x({3}, {0.3, -1.2, 2.0});
  auto ok = gradcheck([](const std::vector<Var64>& in) { return square(in[0]); }, {x});
  REQUIRE(ok.ok);
  REQUIRE(ok.entries_checked == 9);
  // An op whose backward forgets the factor 2.
  auto wrong_square = [](const std::vector<Var64>& in) {
    const Var64& v = in[0];
    Tensor64 y = v.value().clone();
    for (auto& e : y) e *= e;
    return record_op("wrong", y, {v}, [v](const Tensor64& g) {
      Tensor64 d = g.clone();
      for (std::size_t i = 0; i < d.numel(); ++i) d[i] *= v.value()[i];
      v.accumulate_grad(std::move(d));
    });
  };
  auto bad = gradcheck(wrong_square, {x});
  REQUIRE(!bad.ok);
  REQUIRE_THAT(bad.message, Catch::Contains("analytic"));
}
