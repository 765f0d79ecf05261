// tests/autograd/test_gradcheck_conv_affine.cpp — conv2d_affine (convolution + per-channel
// affine + optional ReLU after and/or before, as one op): full-Jacobian gradcheck in float64
// for the fused same-convolution paths (3x3 pad 1, 1x1, few and many output channels) and the
// composed path (stride 2), and equality of values and all four gradients with the unfused ops
// relu(conv2d(relu(x), w) * scale + shift) in float32 and float64; conv2d_affine_chain (such
// layers in a row, the activations between them kept in GEMM layouts) against conv2d_affine
// applied layer by layer.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "tests/tensor_compare.hpp"

using namespace fz;
using fz::test::max_diff;

namespace {

template <typename T>
Tensor<T> random_tensor(const Shape& s, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  Tensor<T> t(s);
  for (auto& v : t) v = T(dist(rng));
  return t;
}

struct Case {
  std::size_t n, c, h, w, cout, k, stride, pad;
};

// Fused same-convolution shapes (k = 3 with 8 channels out uses the skinny GEMM, 13 the packed
// one; 1x1 the per-image path; W = 17 rows cross a vector boundary) and one composed geometry.
const Case kCases[] = {
    {2, 3, 5, 6, 4, 3, 1, 1}, {2, 2, 4, 17, 13, 3, 1, 1}, {3, 5, 3, 4, 6, 1, 1, 0},
    {2, 3, 7, 7, 2, 3, 2, 1},
};

template <typename T>
void check_equals_unfused(const Case& c, bool relu, bool relu_in, double tol) {
  std::mt19937 rng(unsigned(c.c * 31 + c.cout + relu + 2 * relu_in));
  const Tensor<T> x = random_tensor<T>({c.n, c.c, c.h, c.w}, rng);
  const Tensor<T> w = random_tensor<T>({c.cout, c.c, c.k, c.k}, rng);
  const Tensor<T> s = random_tensor<T>({c.cout}, rng), t = random_tensor<T>({c.cout}, rng);
  Var<T> fx(x, true), fw(w, true), fs(s, true), ft(t, true);
  Var<T> ux(x, true), uw(w, true), us(s, true), ut(t, true);
  // One graph per backward pass (a backward consumes the whole tape).
  const Var<T> fused = conv2d_affine(fx, fw, fs, ft, relu, c.stride, c.pad, relu_in);
  const Var<T> r(random_tensor<T>(fused.shape(), rng));
  sum(fused * r).backward();
  const Shape cs{1, c.cout, 1, 1};
  Var<T> plain = conv2d(relu_in ? fz::relu(ux) : ux, uw, Var<T>(), c.stride, c.pad) *
                     reshape(us, cs) +
                 reshape(ut, cs);
  if (relu) plain = fz::relu(plain);
  REQUIRE(max_diff(fused.value(), plain.value()) < tol);
  sum(plain * r).backward();
  CHECK(max_diff(fx.grad(), ux.grad()) < tol);
  CHECK(max_diff(fw.grad(), uw.grad()) < tol * 10);
  CHECK(max_diff(fs.grad(), us.grad()) < tol * 10);
  CHECK(max_diff(ft.grad(), ut.grad()) < tol * 10);
}

}  // namespace

TEST_CASE("conv2d_affine op: gradcheck of x, weight, scale and shift", "[autograd][conv]") {
  std::mt19937 rng(7);
  for (const Case& c : kCases)
    for (int mode = 0; mode < 4; ++mode) {
      const bool relu = mode & 1, relu_in = mode & 2;
      INFO("c " << c.c << " -> " << c.cout << " k " << c.k << " stride " << c.stride
                << " relu " << relu << " relu_in " << relu_in);
      const GradcheckResult r = gradcheck(
          [&](const std::vector<Var64>& v) {
            return conv2d_affine(v[0], v[1], v[2], v[3], relu, c.stride, c.pad, relu_in);
          },
          {random_tensor<double>({c.n, c.c, c.h, c.w}, rng),
           random_tensor<double>({c.cout, c.c, c.k, c.k}, rng),
           random_tensor<double>({c.cout}, rng), random_tensor<double>({c.cout}, rng)});
      INFO(r.message);
      REQUIRE(r.entries_checked > 0);
      REQUIRE(r.ok);
    }
}

TEST_CASE("conv2d_affine op: equals relu(conv2d(relu(x)) * scale + shift) in value and gradients",
          "[autograd][conv]") {
  for (const Case& c : kCases)
    for (int mode = 0; mode < 4; ++mode) {
      const bool relu = mode & 1, relu_in = mode & 2;
      INFO("c " << c.c << " -> " << c.cout << " k " << c.k << " relu " << relu << " relu_in "
                << relu_in);
      check_equals_unfused<double>(c, relu, relu_in, 1e-12);
      check_equals_unfused<float>(c, relu, relu_in, 2e-5);
    }
}

TEST_CASE("conv2d_affine op: rejects a scale or shift of the wrong size", "[autograd][conv]") {
  const Var64 x(Tensor64({1, 2, 3, 3})), w(Tensor64({4, 2, 3, 3}));
  CHECK_THROWS_WITH(conv2d_affine(x, w, Var64(Tensor64({3})), Var64(Tensor64({4})), true, 1, 1),
                    Catch::Contains("scale and shift must both be (4)"));
}

namespace {

struct ChainLayerShape {
  std::size_t out, k;
  bool relu;
};
struct ChainCase {
  std::size_t n, c, h, w;
  bool relu_in;
  std::vector<ChainLayerShape> layers;
};

// Glow's coupling net (3x3 -> 1x1 -> 3x3 with few outputs), RealNVP's residual branch
// (relu -> 3x3 -> relu -> 3x3), a 3x3 -> 1x1, one layer alone, and a 17-wide image whose rows
// cross a vector boundary.
const std::vector<ChainCase> kChains = {
    {2, 2, 5, 6, false, {{5, 3, true}, {6, 1, true}, {4, 3, false}}},
    {2, 3, 4, 5, true, {{4, 3, true}, {6, 3, false}}},
    {2, 2, 4, 4, false, {{9, 3, false}, {3, 1, true}}},
    {2, 3, 4, 4, true, {{5, 1, true}}},
    {1, 2, 3, 17, true, {{3, 3, true}, {2, 3, true}}},
};

template <typename T>
std::vector<Tensor<T>> chain_inputs(const ChainCase& c, std::mt19937& rng) {
  std::vector<Tensor<T>> in{random_tensor<T>({c.n, c.c, c.h, c.w}, rng)};
  std::size_t channels = c.c;
  for (const ChainLayerShape& l : c.layers) {
    in.push_back(random_tensor<T>({l.out, channels, l.k, l.k}, rng));
    in.push_back(random_tensor<T>({l.out}, rng));
    in.push_back(random_tensor<T>({l.out}, rng));
    channels = l.out;
  }
  return in;
}

template <typename T>
Var<T> chain_fused(const ChainCase& c, const std::vector<Var<T>>& v) {
  std::vector<ConvAffineVars<T>> layers;
  for (std::size_t i = 0; i < c.layers.size(); ++i)
    layers.push_back({v[1 + 3 * i], v[2 + 3 * i], v[3 + 3 * i], c.layers[i].relu});
  return conv2d_affine_chain(v[0], c.relu_in, layers);
}

template <typename T>
Var<T> chain_layer_by_layer(const ChainCase& c, const std::vector<Var<T>>& v) {
  Var<T> h = v[0];
  for (std::size_t i = 0; i < c.layers.size(); ++i)
    h = conv2d_affine(h, v[1 + 3 * i], v[2 + 3 * i], v[3 + 3 * i], c.layers[i].relu, 1,
                      c.layers[i].k / 2, i == 0 && c.relu_in);
  return h;
}

template <typename T>
void check_chain_equals_layers(const ChainCase& c, double tol) {
  std::mt19937 rng(unsigned(c.c * 7 + c.layers.size() + c.w));
  const std::vector<Tensor<T>> in = chain_inputs<T>(c, rng);
  std::vector<Var<T>> a, b;
  for (const auto& t : in) {
    a.emplace_back(t, true);
    b.emplace_back(t, true);
  }
  const Var<T> fused = chain_fused(c, a);
  const Var<T> r(random_tensor<T>(fused.shape(), rng));
  sum(fused * r).backward();
  const Var<T> plain = chain_layer_by_layer(c, b);
  REQUIRE(max_diff(fused.value(), plain.value()) < tol);
  sum(plain * r).backward();
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("input " << i);
    CHECK(max_diff(a[i].grad(), b[i].grad()) < tol * 10);
  }
}

}  // namespace

TEST_CASE("conv2d_affine_chain op: gradcheck of the input and every layer's parameters",
          "[autograd][conv]") {
  std::mt19937 rng(17);
  for (const ChainCase& c : kChains) {
    INFO(c.layers.size() << " layers from " << c.c << " channels, " << c.h << "x" << c.w);
    const GradcheckResult r = gradcheck(
        [&](const std::vector<Var64>& v) { return chain_fused(c, v); }, chain_inputs<double>(c, rng));
    INFO(r.message);
    REQUIRE(r.entries_checked > 0);
    REQUIRE(r.ok);
  }
}

TEST_CASE("conv2d_affine_chain op: equals conv2d_affine layer by layer in value and gradients",
          "[autograd][conv]") {
  for (const ChainCase& c : kChains) {
    INFO(c.layers.size() << " layers from " << c.c << " channels, " << c.h << "x" << c.w);
    check_chain_equals_layers<double>(c, 1e-12);
    check_chain_equals_layers<float>(c, 2e-5);
  }
}

TEST_CASE("conv2d_affine_chain op: layers that do not chain are refused", "[autograd][conv]") {
  const Var64 x(Tensor64({1, 2, 4, 4}));
  const Var64 w1(Tensor64({3, 2, 3, 3})), w2(Tensor64({2, 4, 1, 1}));
  const Var64 s3(Tensor64({3})), s2(Tensor64({2}));
  CHECK_THROWS_WITH(conv2d_affine_chain(x, false, {{w1, s3, s3, true}, {w2, s2, s2, false}}),
                    Catch::Contains("do not chain"));
  CHECK_THROWS_WITH(conv2d_affine_chain(x, false, std::vector<ConvAffineVars<double>>{}),
                    Catch::Contains("no layers"));
}
