// tests/autograd/test_gradcheck_conv_affine.cpp — conv2d_affine (convolution + per-channel
// affine + optional ReLU after and/or before, as one op): full-Jacobian gradcheck in float64
// for the fused same-convolution paths (3x3 pad 1, 1x1, few and many output channels) and the
// composed path (stride 2), and equality of values and all four gradients with the unfused ops
// relu(conv2d(relu(x), w) * scale + shift) in float32 and float64; conv2d_affine_pair (two such
// layers with the activation between them kept in the GEMM layout) against two conv2d_affine.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"

using namespace fz;

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
double max_diff(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

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

struct PairCase {
  std::size_t n, c, h, w, c1, k1, c2, k2;
  bool relu_in, relu1, relu2;
};

// Glow's 1x1 -> ReLU -> 3x3 (few outputs), RealNVP's relu -> 3x3 -> relu -> 3x3, a 3x3 -> 1x1,
// and a 17-wide image whose rows cross a vector boundary.
const PairCase kPairs[] = {
    {2, 3, 5, 6, 5, 1, 4, 3, false, true, false}, {2, 3, 4, 5, 4, 3, 6, 3, true, true, false},
    {2, 2, 4, 4, 9, 3, 3, 1, false, false, true}, {1, 2, 3, 17, 3, 3, 2, 3, true, true, true},
};

template <typename T>
std::vector<Tensor<T>> pair_inputs(const PairCase& c, std::mt19937& rng) {
  return {random_tensor<T>({c.n, c.c, c.h, c.w}, rng), random_tensor<T>({c.c1, c.c, c.k1, c.k1}, rng),
          random_tensor<T>({c.c1}, rng), random_tensor<T>({c.c1}, rng),
          random_tensor<T>({c.c2, c.c1, c.k2, c.k2}, rng), random_tensor<T>({c.c2}, rng),
          random_tensor<T>({c.c2}, rng)};
}

template <typename T>
Var<T> pair_fused(const PairCase& c, const std::vector<Var<T>>& v) {
  return conv2d_affine_pair(v[0], c.relu_in, v[1], v[2], v[3], c.relu1, v[4], v[5], v[6], c.relu2);
}

template <typename T>
Var<T> pair_nested(const PairCase& c, const std::vector<Var<T>>& v) {
  const Var<T> h = conv2d_affine(v[0], v[1], v[2], v[3], c.relu1, 1, c.k1 / 2, c.relu_in);
  return conv2d_affine(h, v[4], v[5], v[6], c.relu2, 1, c.k2 / 2);
}

template <typename T>
void check_pair_equals_nested(const PairCase& c, double tol) {
  std::mt19937 rng(unsigned(c.c1 * 7 + c.k1 + c.k2));
  const std::vector<Tensor<T>> in = pair_inputs<T>(c, rng);
  std::vector<Var<T>> a, b;
  for (const auto& t : in) {
    a.emplace_back(t, true);
    b.emplace_back(t, true);
  }
  const Var<T> fused = pair_fused(c, a);
  const Var<T> r(random_tensor<T>(fused.shape(), rng));
  sum(fused * r).backward();
  const Var<T> nested = pair_nested(c, b);
  REQUIRE(max_diff(fused.value(), nested.value()) < tol);
  sum(nested * r).backward();
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("input " << i);
    CHECK(max_diff(a[i].grad(), b[i].grad()) < tol * 10);
  }
}

}  // namespace

TEST_CASE("conv2d_affine_pair op: gradcheck of the input and both layers' parameters",
          "[autograd][conv]") {
  std::mt19937 rng(17);
  for (const PairCase& c : kPairs) {
    INFO("k " << c.k1 << " then " << c.k2 << ", " << c.c << " -> " << c.c1 << " -> " << c.c2);
    const GradcheckResult r = gradcheck(
        [&](const std::vector<Var64>& v) { return pair_fused(c, v); }, pair_inputs<double>(c, rng));
    INFO(r.message);
    REQUIRE(r.entries_checked > 0);
    REQUIRE(r.ok);
  }
}

TEST_CASE("conv2d_affine_pair op: equals two conv2d_affine ops in value and gradients",
          "[autograd][conv]") {
  for (const PairCase& c : kPairs) {
    INFO("k " << c.k1 << " then " << c.k2 << ", " << c.c << " -> " << c.c1 << " -> " << c.c2);
    check_pair_equals_nested<double>(c, 1e-12);
    check_pair_equals_nested<float>(c, 2e-5);
  }
}

TEST_CASE("conv2d_affine_pair op: layers that do not chain are refused", "[autograd][conv]") {
  const Var64 x(Tensor64({1, 2, 4, 4}));
  const Var64 w1(Tensor64({3, 2, 3, 3})), w2(Tensor64({2, 4, 1, 1}));
  const Var64 s3(Tensor64({3})), s2(Tensor64({2}));
  CHECK_THROWS_WITH(conv2d_affine_pair(x, false, w1, s3, s3, true, w2, s2, s2, false),
                    Catch::Contains("do not chain"));
}
