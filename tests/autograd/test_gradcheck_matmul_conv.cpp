// tests/autograd/test_gradcheck_matmul_conv.cpp — gradcheck (float64, full Jacobian) for
// matmul (2-D, batched, broadcast batches), linear (with and without bias, extra leading
// axes), linear_relu (the fused layer: gradcheck and equality with relu(linear)) and conv2d
// (stride, padding, 1x1, bias), plus a few forward values and errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_matmul.hpp"
#include "tensor/random.hpp"

using namespace fz;

namespace {

Tensor64 random_tensor(const Shape& s, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  Tensor64 t(s);
  for (auto& v : t) v = dist(rng);
  return t;
}

void require_gradcheck(const VarFunction64& f, const std::vector<Tensor64>& inputs) {
  const GradcheckResult r = gradcheck(f, inputs);
  INFO(r.message);
  REQUIRE(r.entries_checked > 0);
  REQUIRE(r.ok);
}

}  // namespace

TEST_CASE("matmul op: forward values and 2-D gradients", "[autograd][matmul]") {
  Var64 a(Tensor64({2, 2}, {1, 2, 3, 4}), true);
  Var64 b(Tensor64({2, 1}, {5, 6}), true);
  Var64 y = matmul(a, b);
  REQUIRE(y.value().to_vector() == std::vector<double>{17, 39});
  y.backward(Tensor64({2, 1}, {1, 1}));
  // dA = G b^T = [[5, 6], [5, 6]];  dB = a^T G = [4, 6]
  REQUIRE(a.grad().to_vector() == std::vector<double>{5, 6, 5, 6});
  REQUIRE(b.grad().to_vector() == std::vector<double>{4, 6});

  std::mt19937 rng(1);
  require_gradcheck([](const std::vector<Var64>& v) { return matmul(v[0], v[1]); },
                    {random_tensor({3, 4}, rng), random_tensor({4, 5}, rng)});
}

TEST_CASE("matmul op: batched and broadcast gradients", "[autograd][matmul]") {
  std::mt19937 rng(2);
  auto mm = [](const std::vector<Var64>& v) { return matmul(v[0], v[1]); };
  require_gradcheck(mm, {random_tensor({2, 3, 4}, rng), random_tensor({2, 4, 2}, rng)});
  require_gradcheck(mm, {random_tensor({3, 2, 4}, rng), random_tensor({4, 3}, rng)});      // b 2-D
  require_gradcheck(mm, {random_tensor({3, 2, 4}, rng), random_tensor({1, 4, 3}, rng)});   // b batch 1
  require_gradcheck(mm, {random_tensor({2, 4}, rng), random_tensor({3, 4, 2}, rng)});      // a 2-D
  require_gradcheck(mm, {random_tensor({1, 2, 4}, rng), random_tensor({1, 4, 3}, rng)});
}

TEST_CASE("linear op: values and gradients with and without bias", "[autograd][matmul]") {
  Var64 x(Tensor64({1, 2}, {1, 2}), false);
  Var64 w(Tensor64({3, 2}, {1, 0, 0, 1, 1, 1}), false);
  Var64 b(Tensor64({3}, {10, 20, 30}), false);
  REQUIRE(linear(x, w, b).value().to_vector() == std::vector<double>{11, 22, 33});
  REQUIRE(linear(x, w).value().to_vector() == std::vector<double>{1, 2, 3});

  std::mt19937 rng(3);
  require_gradcheck([](const std::vector<Var64>& v) { return linear(v[0], v[1], v[2]); },
                    {random_tensor({4, 3}, rng), random_tensor({5, 3}, rng), random_tensor({5}, rng)});
  require_gradcheck([](const std::vector<Var64>& v) { return linear(v[0], v[1]); },
                    {random_tensor({4, 3}, rng), random_tensor({2, 3}, rng)});
  // Extra leading axes: (2, 3, in) -> (2, 3, out).
  require_gradcheck([](const std::vector<Var64>& v) { return linear(v[0], v[1], v[2]); },
                    {random_tensor({2, 3, 4}, rng), random_tensor({2, 4}, rng), random_tensor({2}, rng)});
  Var64 bad(Tensor64({2, 4}), false);
  REQUIRE_THROWS_WITH(linear(bad, w), Catch::Contains("(2, 4)"));
  REQUIRE_THROWS_AS(linear(x, w, Var64(Tensor64({2}), false)), std::invalid_argument);
}

TEST_CASE("linear op: only inputs that require grad receive one", "[autograd][matmul]") {
  std::mt19937 rng(4);
  Var64 x(random_tensor({3, 2}, rng), false);
  Var64 w(random_tensor({4, 2}, rng), true);
  Var64 b(random_tensor({4}, rng), false);
  linear(x, w, b).backward(Tensor64({3, 4}, 1.0));
  REQUIRE(!x.grad().defined());
  REQUIRE(!b.grad().defined());
  REQUIRE(w.grad().defined());
  // dW = G^T x with G all ones: every row is the column sum of x.
  REQUIRE(w.grad().at({2, 1}) == Approx(x.value().at({0, 1}) + x.value().at({1, 1}) + x.value().at({2, 1})));
}

TEST_CASE("linear_relu op: values and gradients with and without bias", "[autograd][matmul]") {
  Var64 x(Tensor64({1, 2}, {1, -2}), false);
  Var64 w(Tensor64({3, 2}, {1, 0, 0, 1, 1, 1}), false);
  Var64 b(Tensor64({3}, {0.5, 1, -1}), false);
  // x W^T + b = (1.5, -1, -2) -> relu
  REQUIRE(linear_relu(x, w, b).value().to_vector() == std::vector<double>{1.5, 0, 0});
  REQUIRE(linear_relu(x, w).value().to_vector() == std::vector<double>{1, 0, 0});

  std::mt19937 rng(13);
  require_gradcheck([](const std::vector<Var64>& v) { return linear_relu(v[0], v[1], v[2]); },
                    {random_tensor({6, 3}, rng), random_tensor({5, 3}, rng), random_tensor({5}, rng)});
  require_gradcheck([](const std::vector<Var64>& v) { return linear_relu(v[0], v[1]); },
                    {random_tensor({4, 3}, rng), random_tensor({2, 3}, rng)});
  require_gradcheck([](const std::vector<Var64>& v) { return linear_relu(v[0], v[1], v[2]); },
                    {random_tensor({2, 3, 4}, rng), random_tensor({3, 4}, rng), random_tensor({3}, rng)});
  REQUIRE_THROWS_WITH(linear_relu(Var64(Tensor64({2, 4}), false), w), Catch::Contains("(2, 4)"));
  REQUIRE_THROWS_AS(linear_relu(x, w, Var64(Tensor64({2}), false)), std::invalid_argument);
}

namespace {

// linear_relu against relu(linear): forward values and all three gradients, at a shape that
// takes the given GEMM paths (float; the toy's 512 x 64 x 64 layer and its 1 -> 64 layer).
template <typename T>
void require_linear_relu_matches_unfused(std::size_t rows, std::size_t in, std::size_t out,
                                         unsigned seed) {
  Rng rng(seed);
  const Tensor<T> xv = rng.normal<T>({rows, in});
  const Tensor<T> wv = rng.normal<T>({out, in});
  const Tensor<T> bv = rng.normal<T>({out});
  const Tensor<T> seed_grad = rng.normal<T>({rows, out});
  Var<T> x1(xv.clone(), true), w1(wv.clone(), true), b1(bv.clone(), true);
  Var<T> x2(xv.clone(), true), w2(wv.clone(), true), b2(bv.clone(), true);
  // One backward per graph (a backward consumes the whole tape).
  Var<T> fused = linear_relu(x1, w1, b1);
  const Tensor<T> fused_value = fused.value();
  fused.backward(seed_grad);
  Var<T> plain = relu(linear(x2, w2, b2));
  plain.backward(seed_grad);
  auto close = [](const Tensor<T>& a, const Tensor<T>& b) {
    REQUIRE(a.shape() == b.shape());
    double err = 0, scale = 1;
    for (std::size_t i = 0; i < a.numel(); ++i) {
      err = std::max(err, std::abs(double(a[i]) - double(b[i])));
      scale = std::max(scale, std::abs(double(b[i])));
    }
    return err <= 1e-6 * scale;
  };
  REQUIRE(close(fused_value, plain.value()));
  REQUIRE(close(x1.grad(), x2.grad()));
  REQUIRE(close(w1.grad(), w2.grad()));
  REQUIRE(close(b1.grad(), b2.grad()));
}

}  // namespace

TEST_CASE("linear_relu op: equals relu(linear) at the toy flows' shapes", "[autograd][matmul]") {
  require_linear_relu_matches_unfused<float>(512, 64, 64, 1);
  require_linear_relu_matches_unfused<float>(512, 1, 64, 2);
  require_linear_relu_matches_unfused<float>(37, 5, 3, 3);
  require_linear_relu_matches_unfused<double>(100, 64, 64, 4);
}

TEST_CASE("linear_relu op: only inputs that require grad receive one", "[autograd][matmul]") {
  std::mt19937 rng(14);
  Var64 x(random_tensor({3, 2}, rng), true);
  Var64 w(random_tensor({4, 2}, rng), false);
  Var64 b(random_tensor({4}, rng), false);
  Var64 y = linear_relu(x, w, b);
  y.backward(Tensor64({3, 4}, 1.0));
  REQUIRE(x.grad().defined());
  REQUIRE(!w.grad().defined());
  REQUIRE(!b.grad().defined());
  // dx = (G masked by y > 0) W with G all ones.
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t k = 0; k < 2; ++k) {
      double expect = 0;
      for (std::size_t o = 0; o < 4; ++o)
        if (y.value().at({i, o}) > 0) expect += w.value().at({o, k});
      REQUIRE(x.grad().at({i, k}) == Approx(expect));
    }
}

TEST_CASE("conv2d op: gradients for stride, padding, 1x1 and bias", "[autograd][conv2d]") {
  std::mt19937 rng(5);
  struct Case { Shape x, w; std::size_t stride, pad; bool bias; };
  const Case cases[] = {
      {{2, 2, 4, 4}, {3, 2, 3, 3}, 1, 1, true},
      {{1, 2, 5, 4}, {2, 2, 3, 3}, 2, 0, false},
      {{2, 3, 3, 3}, {2, 3, 1, 1}, 1, 0, true},
      {{1, 1, 4, 5}, {2, 1, 3, 1}, 2, 2, true},
  };
  for (const Case& c : cases) {
    INFO("x " << shape_str(c.x) << " w " << shape_str(c.w) << " stride " << c.stride << " pad " << c.pad);
    const std::size_t stride = c.stride, pad = c.pad;
    if (c.bias)
      require_gradcheck(
          [stride, pad](const std::vector<Var64>& v) { return conv2d(v[0], v[1], v[2], stride, pad); },
          {random_tensor(c.x, rng), random_tensor(c.w, rng), random_tensor({c.w[0]}, rng)});
    else
      require_gradcheck(
          [stride, pad](const std::vector<Var64>& v) { return conv2d(v[0], v[1], Var64(), stride, pad); },
          {random_tensor(c.x, rng), random_tensor(c.w, rng)});
  }
}
