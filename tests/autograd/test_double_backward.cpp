// tests/autograd/test_double_backward.cpp — the backward pass as a differentiable computation:
// gradgradcheck (float64 central differences of the first-order backward) of every op with
// second derivatives, the refusal of ops without, the Hessian of a small tanh MLP by hvp
// against its closed form (and the node counts docs/how-the-tape-works.md quotes), jvp against
// a numeric Jacobian, a third derivative, and grad()'s effect on the tape and on .grad.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/gradcheck_helpers.hpp"
#include "autograd/grad.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "autograd/ops_affine_coupling.hpp"
#include "autograd/ops_channel_affine.hpp"
#include "autograd/ops_keep_masked.hpp"
#include "autograd/ops_select_channels.hpp"
#include "tensor/broadcast.hpp"
#include "tensor/reference_mode.hpp"

using namespace fz;

namespace {

using Fn = std::function<Var64(const std::vector<Var64>&)>;

using fz::test::nonzero;
using fz::test::values;

void require_gradgrad(const Fn& f, const std::vector<Tensor64>& inputs) {
  const GradcheckResult r = gradgradcheck(f, inputs);
  INFO(r.message);
  REQUIRE(r.ok);
  REQUIRE(r.entries_checked > 0);
}

}  // namespace

TEST_CASE("double backward: binary elementwise ops with broadcasting", "[autograd][double_backward]") {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{3}, {2, 3}}, {{2, 3}, {}}, {{2, 1}, {1, 3}}};
  for (const auto& [sa, sb] : shapes) {
    INFO("a " << shape_str(sa) << ", b " << shape_str(sb));
    const Tensor64 a = values(sa, -1.5, 1.5, 1), b = values(sb, -1.2, 1.4, 2);
    const Tensor64 b_positive = values(sb, 0.5, 2.0, 3);
    require_gradgrad([](const std::vector<Var64>& v) { return add(v[0], v[1]); }, {a, b});
    require_gradgrad([](const std::vector<Var64>& v) { return sub(v[0], v[1]); }, {a, b});
    require_gradgrad([](const std::vector<Var64>& v) { return mul(v[0], v[1]); }, {a, b});
    require_gradgrad([](const std::vector<Var64>& v) { return div(v[0], v[1]); }, {a, b_positive});
    require_gradgrad([](const std::vector<Var64>& v) { return maximum(v[0], v[1]); }, {a, b});
    require_gradgrad([](const std::vector<Var64>& v) { return minimum(v[0], v[1]); }, {a, b});
  }
  // One input used twice: its second derivative has the cross terms of both uses.
  require_gradgrad([](const std::vector<Var64>& v) { return mul(mul(v[0], v[0]), v[1]); },
                   {values({2, 3}, -1.0, 1.0, 4), values({3}, -1.0, 1.0, 5)});
}

TEST_CASE("double backward: scalar and unary ops", "[autograd][double_backward]") {
  const Tensor64 x = values({2, 3}, -1.5, 1.5, 6);
  const Tensor64 positive = values({2, 3}, 0.3, 2.5, 7);
  const Tensor64 kinked = nonzero({2, 3}, 8);
  using V = std::vector<Var64>;
  require_gradgrad([](const V& v) { return neg(v[0]); }, {x});
  require_gradgrad([](const V& v) { return add_scalar(v[0], 0.7); }, {x});
  require_gradgrad([](const V& v) { return mul_scalar(v[0], -1.3); }, {x});
  require_gradgrad([](const V& v) { return rsub_scalar(2.0, v[0]); }, {x});
  require_gradgrad([](const V& v) { return rdiv_scalar(1.5, v[0]); }, {positive});
  require_gradgrad([](const V& v) { return exp(v[0]); }, {x});
  require_gradgrad([](const V& v) { return log(v[0]); }, {positive});
  require_gradgrad([](const V& v) { return log1p(v[0]); }, {positive});
  require_gradgrad([](const V& v) { return sqrt(v[0]); }, {positive});
  require_gradgrad([](const V& v) { return pow(v[0], 3.0); }, {x});
  require_gradgrad([](const V& v) { return pow(v[0], 2.5); }, {positive});
  require_gradgrad([](const V& v) { return square(v[0]); }, {x});
  require_gradgrad([](const V& v) { return tanh(v[0]); }, {x});
  require_gradgrad([](const V& v) { return sigmoid(v[0]); }, {x});
  require_gradgrad([](const V& v) { return logsigmoid(v[0]); }, {x});
  require_gradgrad([](const V& v) { return softplus(v[0]); }, {x});
  require_gradgrad([](const V& v) { return relu(v[0]); }, {kinked});
  require_gradgrad([](const V& v) { return leaky_relu(v[0], 0.1); }, {kinked});
  require_gradgrad([](const V& v) { return abs(v[0]); }, {kinked});
  require_gradgrad([](const V& v) { return elu(v[0], 0.8); }, {kinked});
  require_gradgrad([](const V& v) { return clamp(v[0], -1.0, 1.0); }, {kinked});
  // A composition, so second derivatives of one op meet first derivatives of another.
  require_gradgrad([](const V& v) { return mul(tanh(v[0]), exp(mul_scalar(v[0], 0.5))); }, {x});
}

TEST_CASE("double backward: reductions and the broadcasting pair", "[autograd][double_backward]") {
  using V = std::vector<Var64>;
  const Tensor64 x = values({2, 3, 2}, -1.0, 1.0, 9);
  require_gradgrad([](const V& v) { return sum(square(v[0])); }, {x});
  require_gradgrad([](const V& v) { return mean(square(v[0])); }, {x});
  require_gradgrad([](const V& v) { return sum(v[0], std::vector<int>{0, 2}); }, {x});
  require_gradgrad([](const V& v) { return mean(tanh(v[0]), 1, true); }, {x});
  require_gradgrad([](const V& v) { return mean(v[0], -1); }, {x});
  require_gradgrad([](const V& v) { return logsumexp(v[0], 1); }, {x});
  require_gradgrad([](const V& v) { return logsumexp(v[0]); }, {x});
  require_gradgrad([](const V& v) { return sum_to(v[0], Shape{1, 3, 1}); }, {x});
  require_gradgrad([](const V& v) { return sum_to(tanh(v[0]), Shape{2}); }, {x});
  require_gradgrad([](const V& v) { return broadcast_to(tanh(v[0]), Shape{2, 2, 3}); },
                   {values({2, 1, 3}, -1.0, 1.0, 10)});
  // sum_to and broadcast_to are ops of their own now: their first derivatives too.
  for (const GradcheckResult& r :
       {gradcheck([](const V& v) { return sum_to(v[0], Shape{3, 1}); }, {x}),
        gradcheck([](const V& v) { return sum_to(v[0], Shape{}); }, {x}),
        gradcheck([](const V& v) { return broadcast_to(v[0], Shape{2, 2, 3}); }, {values({2, 1, 3}, -1.0, 1.0, 10)}),
        gradcheck([](const V& v) { return broadcast_to(v[0], Shape{4, 3}); }, {values({3}, -1.0, 1.0, 10)})}) {
    INFO(r.message);
    REQUIRE(r.ok);
  }
}

TEST_CASE("double backward: layout ops", "[autograd][double_backward]") {
  using V = std::vector<Var64>;
  const Tensor64 x = values({2, 3, 4}, -1.0, 1.0, 11);
  // Each layout op wrapped between two tanh so that its backward sits between curved ops.
  auto curved = [](std::function<Var64(const Var64&)> op) {
    return [op](const V& v) { return tanh(op(tanh(v[0]))); };
  };
  require_gradgrad([](const V& v) { return reshape(v[0], Shape{6, 4}); }, {x});
  require_gradgrad(curved([](const Var64& a) { return reshape(a, Shape{4, 6}); }), {x});
  require_gradgrad(curved([](const Var64& a) { return transpose(a, 0, 2); }), {x});
  require_gradgrad(curved([](const Var64& a) { return permute(a, {1, 2, 0}); }), {x});
  require_gradgrad(curved([](const Var64& a) { return slice(a, 2, 1, 3); }), {x});
  require_gradgrad(curved([](const Var64& a) { return slice(a, -2, -2, 3); }), {x});
  require_gradgrad(curved([](const Var64& a) { return pad(a, PadWidths{{1, 0}, {2, 1}}, 0.5); }), {x});
  require_gradgrad(curved([](const Var64& a) { return flip(a, 1); }), {x});
  require_gradgrad(curved([](const Var64& a) { return unsqueeze2d(squeeze2d(reshape(a, Shape{1, 2, 2, 6}))); }), {x});
  require_gradgrad([](const V& v) { return concat({tanh(v[0]), square(v[1]), v[0]}, 1); },
                   {values({2, 2}, -1.0, 1.0, 12), values({2, 3}, -1.0, 1.0, 13)});
  // split: the piece nodes share one gradient assembly; an unused piece counts as zeros.
  require_gradgrad([](const V& v) {
    const std::vector<Var64> parts = split(tanh(v[0]), {1, 2}, 1);
    return concat({square(parts[1]), parts[0]}, 1);
  }, {x});
  require_gradgrad([](const V& v) { return mul(chunk(v[0], 2, 2)[1], chunk(v[0], 4, 2)[0]); }, {x});
  require_gradgrad([](const V& v) { return exp(split(v[0], {1, 1, 1}, 1)[1]); }, {x});
  require_gradgrad(
      [](const V& v) { return where(Tensor64({2, 3}, {1, 0, 0, 1, 1, 0}), tanh(v[0]), square(v[1])); },
      {values({2, 3}, -1.0, 1.0, 14), values({3}, -1.0, 1.0, 15)});
}

TEST_CASE("double backward: matmul and linear", "[autograd][double_backward]") {
  using V = std::vector<Var64>;
  require_gradgrad([](const V& v) { return tanh(matmul(v[0], v[1])); },
                   {values({2, 3}, -1.0, 1.0, 16), values({3, 2}, -1.0, 1.0, 17)});
  // Batched, with a 2-D and a batch-1 operand broadcast over the batch.
  require_gradgrad([](const V& v) { return tanh(matmul(v[0], v[1])); },
                   {values({2, 2, 3}, -1.0, 1.0, 18), values({3, 2}, -1.0, 1.0, 19)});
  require_gradgrad([](const V& v) { return tanh(matmul(v[0], v[1])); },
                   {values({1, 2, 3}, -1.0, 1.0, 20), values({2, 3, 2}, -1.0, 1.0, 21)});
  for (bool reference : {false, true}) {
    INFO("reference ops " << reference);
    ReferenceOpsScope scope(reference);
    const Tensor64 x = values({2, 3}, -1.0, 1.0, 22), w = values({2, 3}, -1.0, 1.0, 23);
    const Tensor64 b = values({2}, -0.5, 0.5, 24);
    require_gradgrad([](const V& v) { return tanh(linear(v[0], v[1], v[2])); }, {x, w, b});
    require_gradgrad([](const V& v) { return tanh(linear(v[0], v[1])); }, {x, w});
    require_gradgrad([](const V& v) { return tanh(linear(v[0], v[1], v[2])); },
                     {values({2, 2, 3}, -1.0, 1.0, 25), w, b});
    require_gradgrad([](const V& v) { return square(linear_relu(v[0], v[1], v[2])); },
                     {nonzero({2, 3}, 26), w, b});
  }
}

TEST_CASE("double backward: ops without one refuse by name, and the tape stays usable",
          "[autograd][double_backward]") {
  ReferenceOpsScope fused(false);  // the fused ops' refusal is the point (CI also runs FZ_REFERENCE_OPS=1)
  Var64 x(values({1, 1, 3, 3}, -1.0, 1.0, 27), true);
  Var64 w(values({1, 1, 2, 2}, -1.0, 1.0, 28), true);
  Var64 y = sum(tanh(conv2d(x, w)));
  try {
    grad(y, x, Var64(), true);
    FAIL("no refusal");
  } catch (const std::logic_error& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("op 'conv2d' has no differentiable backward (second derivatives)"));
  }
  // The original graph is intact: the first-order backward still runs.
  y.backward();
  REQUIRE(x.grad().defined());
  REQUIRE(Tape<double>::current().size() == 0);

  // A fused op refuses; under --reference-ops its plain composition has second derivatives.
  const CouplingChannels channels{{0}, {1}};
  auto coupling = [&](const Var64& in) {
    const Var64 h(values({2, 2}, -1.0, 1.0, 29));
    return sum(square(affine_coupling_tanh(in, h, channels).value));
  };
  const Tensor64 x0 = values({2, 2}, -1.0, 1.0, 30);
  const Tensor64 v = values({2, 2}, -1.0, 1.0, 31);
  REQUIRE_THROWS_WITH(hvp<double>(coupling, x0, v), Catch::Contains("op 'affine_coupling'"));
  Tape<double>::current().clear();
  ReferenceOpsScope scope(true);
  const Tensor64 hv = hvp<double>(coupling, x0, v);
  REQUIRE(hv.shape() == x0.shape());
  const GradcheckResult r = gradgradcheck(
      [&](const std::vector<Var64>& in) { return affine_coupling_tanh(in[0], in[1], channels).value; },
      {x0, values({2, 2}, -1.0, 1.0, 32)});
  INFO(r.message);
  REQUIRE(r.ok);
}

TEST_CASE("double backward: fused ops refuse; under reference ops their plain forms pass",
          "[autograd][double_backward]") {
  ReferenceOpsScope fused(false);  // each case checks the fused op first, then its plain form
  using V = std::vector<Var64>;
  const Tensor64 x = nonzero({2, 3, 2}, 41), scale = values({3}, 0.5, 1.5, 42);
  const Tensor64 shift = values({3}, -0.5, 0.5, 43), tau = values({2, 3, 2}, -1.0, 1.0, 44);
  const Tensor64 mask({1, 1, 3, 2}, {1, 0, 0, 1, 1, 0});
  struct Case {
    const char* op;
    Fn f;
    std::vector<Tensor64> inputs;
  };
  const std::vector<Case> cases = {
      {"channel_affine", [](const V& v) { return tanh(channel_affine(v[0], v[1], v[2])); }, {x, scale, shift}},
      {"channel_affine_relu", [](const V& v) { return square(channel_affine_relu(v[0], v[1], v[2])); }, {x, scale, shift}},
      {"keep_masked", [&](const V& v) {
         return tanh(keep_masked(reshape(v[0], Shape{2, 1, 3, 2}), reshape(v[1], Shape{2, 1, 3, 2}), mask));
       }, {x.reshape({2, 6}), tau.reshape({2, 6})}},
      {"select_channels", [](const V& v) { return tanh(select_channels(v[0], {2, 0})); }, {x}},
  };
  for (const Case& c : cases) {
    INFO(c.op);
    REQUIRE_THROWS_WITH(gradgradcheck(c.f, c.inputs),
                        Catch::Contains(std::string("op '") + c.op + "' has no differentiable backward"));
    Tape<double>::current().clear();
    ReferenceOpsScope scope(true);
    require_gradgrad(c.f, c.inputs);
  }
}

namespace {

// The MLP of the worked example: y = w2^T tanh(W1 x + b1), 2 -> 4 -> 1.
struct SmallMlp {
  Tensor64 w1 = values({4, 2}, -1.2, 1.2, 33);
  Tensor64 b1 = values({4}, -0.5, 0.5, 34);
  Tensor64 w2 = values({1, 4}, -1.0, 1.0, 35);
  Var64 operator()(const Var64& x) const {
    const Var64 h = tanh(linear(reshape(x, Shape{1, 2}), Var64(w1), Var64(b1)));
    return sum(linear(h, Var64(w2)));
  }
  // H = W1^T diag(w2 * tanh''(a)) W1 with a = W1 x + b1 and tanh'' = -2 tanh (1 - tanh^2).
  Tensor64 hessian(const Tensor64& x) const {
    Tensor64 h({2, 2});
    for (std::size_t k = 0; k < 4; ++k) {
      const double a = w1[k * 2] * x[0] + w1[k * 2 + 1] * x[1] + b1[k];
      const double t = std::tanh(a);
      const double d = w2[k] * (-2.0 * t * (1.0 - t * t));
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 2; ++j) h[i * 2 + j] += w1[k * 2 + i] * d * w1[k * 2 + j];
    }
    return h;
  }
};

}  // namespace

TEST_CASE("double backward: Hessian of a small tanh MLP by hvp against its closed form",
          "[autograd][double_backward]") {
  ReferenceOpsScope fused(false);  // the node counts below are the fused linear's
  const SmallMlp mlp;
  const Tensor64 x({2}, {0.3, -0.7});
  const Tensor64 expected = mlp.hessian(x);
  for (std::size_t j = 0; j < 2; ++j) {
    Tensor64 e({2});
    e[j] = 1.0;
    const Tensor64 column = hvp<double>(mlp, x, e);
    for (std::size_t i = 0; i < 2; ++i) REQUIRE(column[i] == Approx(expected[i * 2 + j]).margin(1e-12));
  }
  REQUIRE(Tape<double>::current().size() == 0);  // the second pass consumed everything

  // The node counts docs/how-the-tape-works.md ("Double backward") quotes.
  Var64 xv(x.clone(), true);
  const Var64 y = mlp(xv);
  const std::size_t forward_nodes = Tape<double>::current().size();
  const Var64 g = grad(y, xv, Var64(), true);
  const std::size_t after_grad = Tape<double>::current().size();
  const Var64 s = sum(mul(g, Var64(Tensor64({2}, {1.0, 0.0}))));
  const std::size_t after_dot = Tape<double>::current().size();
  CHECK(forward_nodes == 5);  // reshape, linear, tanh, linear, sum
  // + 7 by the differentiable backward: tanh's square, rsub_scalar, mul; the first linear's
  // reshape, matmul, reshape; the input reshape's reshape. The seed and its way back through
  // sum and the output layer (constant weights) are constants, so they record nothing.
  CHECK(after_grad == 12);
  CHECK(after_dot == 14);  // + mul, sum
  const Tensor64 column = grad(s, xv).value();
  REQUIRE(column[1] == Approx(expected[2]).margin(1e-12));
  REQUIRE(Tape<double>::current().size() == 0);
}

TEST_CASE("double backward: jvp against the numeric Jacobian, hvp against a numeric Hessian",
          "[autograd][double_backward]") {
  const Tensor64 w = values({2, 3}, -1.0, 1.0, 36);
  auto f = [&](const Var64& x) {
    return mul(tanh(linear(reshape(x, Shape{1, 3}), Var64(w))), exp(reshape(slice(x, 0, 0, 2), Shape{1, 2})));
  };
  const Tensor64 x({3}, {0.2, -0.4, 0.9});
  const Tensor64 v({3}, {0.5, -1.0, 2.0});
  const Tensor64 jv = jvp<double>(f, x, v);
  const Tensor64 jac = numeric_jacobian(
      [&](const Tensor64& at) {
        NoGradGuard no_grad;
        return f(Var64(at)).value().clone();
      },
      x);
  REQUIRE(jv.shape() == Shape{1, 2});
  for (std::size_t i = 0; i < 2; ++i) {
    double expected = 0;
    for (std::size_t j = 0; j < 3; ++j) expected += jac[i * 3 + j] * v[j];
    REQUIRE(jv[i] == Approx(expected).margin(1e-8));
  }
  // hvp of a scalar function against the numeric Jacobian of its (first-order) gradient.
  auto scalar = [&](const Var64& in) { return sum(square(f(in))); };
  const Tensor64 hv = hvp<double>(scalar, x, v);
  const Tensor64 hess = numeric_jacobian(
      [&](const Tensor64& at) {
        Var64 xv(at.clone(), true);
        return grad(scalar(xv), xv).value();
      },
      x);
  for (std::size_t i = 0; i < 3; ++i) {
    double expected = 0;
    for (std::size_t j = 0; j < 3; ++j) expected += hess[i * 3 + j] * v[j];
    REQUIRE(hv[i] == Approx(expected).margin(1e-7));
  }
}

TEST_CASE("double backward: third derivatives of x^4 and tanh", "[autograd][double_backward]") {
  const Tensor64 x0({3}, {-0.8, 0.3, 1.1});
  for (int which = 0; which < 2; ++which) {
    Var64 x(x0.clone(), true);
    const Var64 y = sum(which == 0 ? pow(x, 4.0) : tanh(x));
    const Var64 d1 = grad(y, x, Var64(), true);        // elementwise: f'(x)
    const Var64 d2 = grad(sum(d1), x, Var64(), true);  // f''(x)
    const Tensor64 d3 = grad(sum(d2), x).value();      // f'''(x)
    for (std::size_t i = 0; i < 3; ++i) {
      const double t = std::tanh(x0[i]);
      const double expected = which == 0 ? 24.0 * x0[i] : -2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t);
      REQUIRE(d3[i] == Approx(expected).margin(1e-12));
    }
  }
}

namespace {

// x^3 with a deliberately wrong differentiable branch (3x instead of 3x^2), and one that
// treats the incoming gradient as a constant: gradgradcheck must catch both.
Var64 cube_wrong_second(const Var64& x) {
  return record_op("cube", pow(x.value(), 3.0), {x}, [x](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(pow_backward(g, x.value(), 3.0));
    else x.accumulate_grad(mul_scalar(mul(g, x), 3.0));
  });
}
Var64 cube_detached_grad(const Var64& x) {
  return record_op("cube", pow(x.value(), 3.0), {x}, [x](const auto& g) {
    if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(pow_backward(g, x.value(), 3.0));
    else x.accumulate_grad(mul_scalar(mul(Var64(g.value()), square(x)), 3.0));
  });
}

}  // namespace

TEST_CASE("double backward: gradgradcheck catches wrong second derivatives", "[autograd][double_backward]") {
  const Tensor64 x = values({3}, 0.5, 1.5, 40);
  const GradcheckResult wrong = gradgradcheck([](const std::vector<Var64>& v) { return cube_wrong_second(v[0]); }, {x});
  REQUIRE_FALSE(wrong.ok);
  REQUIRE_THAT(wrong.message, Catch::Contains("differentiable backward"));  // its VJP values differ
  const GradcheckResult detached = gradgradcheck([](const std::vector<Var64>& v) { return cube_detached_grad(v[0]); }, {x});
  REQUIRE_FALSE(detached.ok);
  REQUIRE_THAT(detached.message, Catch::Contains("the cotangent u"));
  const GradcheckResult right = gradgradcheck([](const std::vector<Var64>& v) { return pow(v[0], 3.0); }, {x});
  REQUIRE(right.ok);
}

namespace {

// tanh recorded with the library's first-order closure only (no differentiable branch).
Var64 tanh_first_order_only(const Var64& x) {
  Tensor64 y = tanh(x.value());
  return record_op("tanh", y, {x}, [x, y](const Tensor64& g) { x.accumulate_grad(tanh_backward(g, y)); });
}

// mul, likewise (the library's first-order branch, in a closure without the second one).
Var64 mul_first_order_only(const Var64& a, const Var64& b) {
  return record_op("mul", mul(a.value(), b.value()), {a, b}, [a, b](const Tensor64& g) {
    if (a.requires_grad()) a.accumulate_grad(sum_to(mul(g, b.value()), a.shape()));
    if (b.requires_grad()) b.accumulate_grad(sum_to(mul(g, a.value()), b.shape()));
  });
}

}  // namespace

TEST_CASE("double backward: first-order results are bit-identical with and without the capability",
          "[autograd][double_backward]") {
  ReferenceOpsScope fused(false);  // node indices below are those of the fused linear
  const Tensor64 w = values({3, 4}, -1.0, 1.0, 37), b = values({3}, -0.5, 0.5, 38);
  const Tensor64 x = values({5, 4}, -1.0, 1.0, 39);
  auto loss = [&](bool capability, Var64& wv, Var64& bv) {
    const Var64 a = linear(Var64(x), wv, bv);
    const Var64 h = capability ? tanh(a) : tanh_first_order_only(a);
    // A broadcast product with the bias: sum_to in the backward.
    const Var64 m = capability ? mul(h, bv) : mul_first_order_only(h, bv);
    return mean(square(m));
  };
  Var64 w1(w.clone(), true), b1(b.clone(), true), w2(w.clone(), true), b2(b.clone(), true);
  const Var64 with = loss(true, w1, b1);
  REQUIRE(Tape<double>::current().nodes()[1].differentiable != nullptr);  // tanh
  REQUIRE(Tape<double>::current().nodes()[2].differentiable != nullptr);  // mul
  with.backward();
  const Var64 without = loss(false, w2, b2);
  REQUIRE(Tape<double>::current().nodes()[1].differentiable == nullptr);
  REQUIRE(Tape<double>::current().nodes()[2].differentiable == nullptr);
  without.backward();
  for (std::size_t i = 0; i < w.numel(); ++i) REQUIRE(w1.grad()[i] == w2.grad()[i]);
  for (std::size_t i = 0; i < b.numel(); ++i) REQUIRE(b1.grad()[i] == b2.grad()[i]);

  // grad(create_graph = false) gives the same bits as backward() and leaves every .grad alone.
  Var64 w3(w.clone(), true), b3(b.clone(), true);
  const std::vector<Var64> g = grad(std::vector<Var64>{loss(true, w3, b3)}, {w3});
  for (std::size_t i = 0; i < w.numel(); ++i) REQUIRE(g[0].value()[i] == w1.grad()[i]);
  REQUIRE_FALSE(w3.grad().defined());
  REQUIRE_FALSE(b3.grad().defined());  // not an input: its gradient was dropped, not stored
  REQUIRE_FALSE(g[0].requires_grad());
  REQUIRE(Tape<double>::current().size() == 0);
}

TEST_CASE("double backward: grad() keeps the tape with create_graph, zero for unused inputs",
          "[autograd][double_backward]") {
  Var64 x(Tensor64({2}, {0.5, -0.3}), true), unused(Tensor64({3}), true);
  const Var64 y = sum(tanh(x));
  const std::size_t forward = Tape<double>::current().size();
  const std::vector<Var64> g = grad(std::vector<Var64>{y}, {x, unused}, {}, true);
  REQUIRE(Tape<double>::current().size() > forward);  // original nodes kept, new ones appended
  REQUIRE(g[0].requires_grad());
  REQUIRE_FALSE(g[1].requires_grad());
  REQUIRE(g[1].shape() == Shape{3});
  for (std::size_t i = 0; i < 3; ++i) REQUIRE(g[1].value()[i] == 0.0);
  // Differentiating the gradient by backward(): d/dx sum(tanh'(x)) = tanh''(x), into x.grad.
  sum(g[0]).backward();
  REQUIRE(Tape<double>::current().size() == 0);
  for (std::size_t i = 0; i < 2; ++i) {
    const double t = std::tanh(x.value()[i]);
    REQUIRE(x.grad()[i] == Approx(-2.0 * t * (1.0 - t * t)).margin(1e-14));
  }
  // After that backward the returned Vars are stale: using one in a new graph is an error.
  REQUIRE_THROWS_AS(mul(g[0], x), std::logic_error);
  // A gradient with respect to an intermediate value.
  const Var64 a = mul_scalar(x, 2.0);
  const Var64 z = sum(square(a));
  const Var64 ga = grad(z, a);
  for (std::size_t i = 0; i < 2; ++i) REQUIRE(ga.value()[i] == Approx(2.0 * a.value()[i]));
}
