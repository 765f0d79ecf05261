// tests/autograd/test_checkpoint.cpp — checkpointed segments (autograd/checkpoint.hpp): the
// same gradients as the plain graph for the inputs and for parameters fn captures, the tape
// left empty after backward, nothing recorded under no-grad, and grad() refused by name.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/checkpoint.hpp"
#include "autograd/grad.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/random.hpp"

using namespace fz;

namespace {

// y1 = tanh(x * w) * x, y2 = exp(w) * sum-free x: two outputs of one segment, w captured.
template <typename T>
std::vector<Var<T>> segment(const Var<T>& x, const Var<T>& w) {
  Var<T> y1 = mul(tanh(mul(x, w)), x);
  Var<T> y2 = mul(exp(w), x);
  return {y1, y2};
}

template <typename T>
double max_relative_difference(const Tensor<T>& a, const Tensor<T>& b) {
  double scale = 1e-300, diff = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(a.data()[i])));
    diff = std::max(diff, std::abs(static_cast<double>(a.data()[i]) - b.data()[i]));
  }
  return diff / scale;
}

// Loss through (pre-op) -> segment -> (post-ops), plain or checkpointed.
template <typename T>
void run(bool checkpointed, const Tensor<T>& x0, const Tensor<T>& w0, Tensor<T>& gx, Tensor<T>& gw) {
  Var<T> x(x0, true);
  Var<T> w(w0, true);
  Var<T> h = mul(x, x);  // a non-leaf input: its own node runs after the segment's
  std::vector<Var<T>> out =
      checkpointed ? checkpoint<T>([&w](const std::vector<Var<T>>& in) { return segment(in[0], w); }, {h})
                   : segment(h, w);
  Var<T> loss = add(sum(mul(out[0], out[0])), sum(out[1]));
  loss.backward();
  CHECK(Tape<T>::current().size() == 0);
  gx = x.grad().clone();
  gw = w.grad().clone();
}

}  // namespace

TEMPLATE_TEST_CASE("checkpoint: gradients of inputs and captured parameters match the plain graph",
                   "[autograd][checkpoint]", float, double) {
  using T = TestType;
  Rng rng(7);
  const Tensor<T> x0 = rng.normal<T>({3, 4}, T(0), T(1));
  const Tensor<T> w0 = rng.normal<T>({3, 4}, T(0), T(1));
  Tensor<T> gx_plain, gw_plain, gx_ck, gw_ck;
  run<T>(false, x0, w0, gx_plain, gw_plain);
  run<T>(true, x0, w0, gx_ck, gw_ck);
  const double tol = std::is_same_v<T, double> ? 1e-12 : 1e-5;
  CHECK(max_relative_difference(gx_plain, gx_ck) <= tol);
  CHECK(max_relative_difference(gw_plain, gw_ck) <= tol);
}

TEST_CASE("checkpoint: the forward records one node per output; nested segments work",
          "[autograd][checkpoint]") {
  Rng rng(8);
  Var64 x(rng.normal<double>({5}, 0.0, 1.0), true);
  auto inner = [](const std::vector<Var64>& in) { return std::vector<Var64>{tanh(in[0])}; };
  auto outer = [&](const std::vector<Var64>& in) {
    return std::vector<Var64>{exp(checkpoint<double>(inner, {mul(in[0], in[0])})[0])};
  };
  std::vector<Var64> out = checkpoint<double>(outer, {x});
  CHECK(Tape<double>::current().size() == 1);
  sum(out[0]).backward();
  CHECK(Tape<double>::current().size() == 0);
  // d/dx sum(exp(tanh(x^2))) = exp(tanh(x^2)) (1 - tanh(x^2)^2) 2x
  for (std::size_t i = 0; i < 5; ++i) {
    const double v = x.value().data()[i];
    const double t = std::tanh(v * v);
    CHECK(x.grad().data()[i] == Approx(std::exp(t) * (1 - t * t) * 2 * v).epsilon(1e-12));
  }
}

TEST_CASE("checkpoint: no-grad records nothing; grad() is refused", "[autograd][checkpoint]") {
  Var64 x(Tensor64({2}, {0.5, -1.0}), true);
  auto fn = [](const std::vector<Var64>& in) { return std::vector<Var64>{tanh(in[0])}; };
  {
    NoGradGuard no_grad;
    (void)checkpoint<double>(fn, {x});
    CHECK(Tape<double>::current().size() == 0);
  }
  Var64 y = sum(checkpoint<double>(fn, {x})[0]);
  CHECK_THROWS_WITH(grad(y, x), Catch::Contains("checkpointed segment"));
  Tape<double>::current().clear();
}
