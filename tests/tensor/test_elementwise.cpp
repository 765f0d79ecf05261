// tests/tensor/test_elementwise.cpp — elementwise kernels against std:: scalar functions over
// awkward sizes (empty, below/above one SIMD batch, the TBB path), binary broadcasting against
// a multi-index reference, in-place helpers and gradient helpers; float and double.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tensor/broadcast.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/simd.hpp"

using namespace fz;

namespace {

// Around one and four SIMD batches of this build's width for float and for double (16 and 8
// lanes with AVX-512, 8 and 4 with AVX2; sums run four accumulators), so every build hits its
// own tails, plus the sizes first chosen for AVX-512 and the threaded path.
constexpr std::size_t kWf = simd::width<float>, kWd = simd::width<double>;
const std::vector<std::size_t> kSizes = {0,       1,           kWd - 1,     kWd + 1, kWf - 1,
                                         kWf + 1, 4 * kWd + 1, 4 * kWf - 1, 15,      17,
                                         1000,    100003};

// Values spread over [lo, hi] in a scrambled order (so SIMD lanes see mixed signs).
template <typename T>
Tensor<T> spread(std::size_t n, double lo, double hi, unsigned salt = 0) {
  Tensor<T> t({n});
  for (std::size_t i = 0; i < n; ++i) {
    const double u = std::fmod(0.6180339887 * double(i * 7 + salt) + 0.1234, 1.0);
    t[i] = static_cast<T>(lo + (hi - lo) * u);
  }
  return t;
}

template <typename T>
double tol() {
  return sizeof(T) == 4 ? 4e-6 : 1e-13;
}

template <typename T>
void check_unary(const std::string& name, const std::function<Tensor<T>(const Tensor<T>&)>& kernel,
                 const std::function<double(double)>& ref, double lo, double hi, double rtol_scale = 1) {
  for (std::size_t n : kSizes) {
    const Tensor<T> x = spread<T>(n, lo, hi);
    const Tensor<T> y = kernel(x);
    REQUIRE(y.shape() == x.shape());
    for (std::size_t i = 0; i < n; ++i) {
      const double want = ref(double(x[i]));
      const double err = std::abs(double(y[i]) - want);
      if (!(err <= rtol_scale * tol<T>() * (1 + std::abs(want)))) {
        FAIL(name << "(" << x[i] << ") at " << i << " of " << n << ": got " << y[i] << ", want " << want);
      }
    }
  }
}

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
Tensor<T> filled(const Shape& s, double lo, double hi, unsigned salt) {
  Tensor<T> v = spread<T>(shape_numel(s), lo, hi, salt);
  return v.reshape(s);
}

// Shape pairs that hit every binary path: equal, scalar, periodic tile (short and long
// periods, with and without a gather), general rows, both sides broadcasting, TBB sizes.
const std::vector<std::pair<Shape, Shape>> kPairs = {
    {{2, 3}, {2, 3}},         {{2, 3}, {3}},           {{3}, {2, 3}},
    {{2, 3}, {}},             {{}, {2, 3}},            {{2, 3}, {2, 1}},
    {{2, 1, 3}, {4, 1}},      {{4, 3, 5, 5}, {3, 1, 1}}, {{3, 1, 1}, {4, 3, 5, 5}},
    {{4, 3, 2, 2}, {1, 3, 1, 1}}, {{4, 3, 5, 5}, {1, 3, 5, 5}}, {{3, 1}, {1, 3}},
    {{1, 3}, {3}},            {{5, 1, 7}, {5, 6, 1}},  {{100003, 2}, {2}},
    {{300, 7, 40}, {7, 1}},   {{64, 8, 16, 16}, {8, 1, 1}}, {{2, 70001}, {2, 1}},
    {{100003}, {1}},          {{0, 3}, {3}},           {{40, 3000}, {3000}}};

template <typename T>
void check_binary(const std::string& name,
                  const std::function<Tensor<T>(const Tensor<T>&, const Tensor<T>&)>& kernel,
                  const std::function<double(double, double)>& ref, double lo, double hi) {
  for (const auto& pr : kPairs) {
    const Tensor<T> a = filled<T>(pr.first, lo, hi, 1), b = filled<T>(pr.second, lo, hi, 5);
    const Tensor<T> y = kernel(a, b);
    const Shape out = broadcast_shapes(pr.first, pr.second);
    REQUIRE(y.shape() == out);
    for (std::size_t i = 0; i < y.numel(); ++i) {
      const double want = ref(a[source_index(pr.first, out, i)], b[source_index(pr.second, out, i)]);
      if (!(std::abs(double(y[i]) - want) <= tol<T>() * (1 + std::abs(want))))
        FAIL(name << " " << shape_str(pr.first) << " with " << shape_str(pr.second) << " at " << i
                  << ": got " << y[i] << ", want " << want);
    }
  }
}

double ref_sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

TEMPLATE_TEST_CASE("elementwise: unary kernels match std:: on every size", "[tensor][elementwise]",
                   float, double) {
  using T = TestType;
  using K = std::function<Tensor<T>(const Tensor<T>&)>;
  check_unary<T>("neg", K([](const Tensor<T>& x) { return neg(x); }), [](double x) { return -x; }, -5, 5);
  check_unary<T>("exp", K([](const Tensor<T>& x) { return exp(x); }), [](double x) { return std::exp(x); }, -20, 20);
  check_unary<T>("expm1", K([](const Tensor<T>& x) { return expm1(x); }), [](double x) { return std::expm1(x); }, -3, 3);
  check_unary<T>("log", K([](const Tensor<T>& x) { return log(x); }), [](double x) { return std::log(x); }, 1e-3, 100);
  check_unary<T>("log1p", K([](const Tensor<T>& x) { return log1p(x); }), [](double x) { return std::log1p(x); }, -0.9, 50);
  check_unary<T>("sqrt", K([](const Tensor<T>& x) { return sqrt(x); }), [](double x) { return std::sqrt(x); }, 0, 100);
  check_unary<T>("rsqrt", K([](const Tensor<T>& x) { return rsqrt(x); }), [](double x) { return 1 / std::sqrt(x); }, 0.01, 100);
  check_unary<T>("reciprocal", K([](const Tensor<T>& x) { return reciprocal(x); }), [](double x) { return 1 / x; }, 0.1, 9);
  check_unary<T>("abs", K([](const Tensor<T>& x) { return abs(x); }), [](double x) { return std::abs(x); }, -5, 5);
  check_unary<T>("sign", K([](const Tensor<T>& x) { return sign(x); }), [](double x) { return double((x > 0) - (x < 0)); }, -5, 5);
  check_unary<T>("square", K([](const Tensor<T>& x) { return square(x); }), [](double x) { return x * x; }, -5, 5);
  check_unary<T>("tanh", K([](const Tensor<T>& x) { return tanh(x); }), [](double x) { return std::tanh(x); }, -10, 10);
  check_unary<T>("sigmoid", K([](const Tensor<T>& x) { return sigmoid(x); }), ref_sigmoid, -30, 30);
  check_unary<T>("logsigmoid", K([](const Tensor<T>& x) { return logsigmoid(x); }),
                 [](double x) { return -std::log1p(std::exp(-x)); }, -30, 30);
  check_unary<T>("softplus", K([](const Tensor<T>& x) { return softplus(x); }),
                 [](double x) { return std::log1p(std::exp(x)); }, -30, 30);
  check_unary<T>("relu", K([](const Tensor<T>& x) { return relu(x); }), [](double x) { return x > 0 ? x : 0; }, -5, 5);
  check_unary<T>("leaky_relu", K([](const Tensor<T>& x) { return leaky_relu(x, 0.1); }),
                 [](double x) { return x > 0 ? x : 0.1 * x; }, -5, 5);
  check_unary<T>("elu", K([](const Tensor<T>& x) { return elu(x, 1.5); }),
                 [](double x) { return x > 0 ? x : 1.5 * std::expm1(x); }, -5, 5);
  check_unary<T>("clamp", K([](const Tensor<T>& x) { return clamp(x, -1.0, 2.0); }),
                 [](double x) { return std::min(std::max(x, -1.0), 2.0); }, -5, 5);
  check_unary<T>("pow3", K([](const Tensor<T>& x) { return pow(x, 3.0); }), [](double x) { return x * x * x; }, -4, 4);
  check_unary<T>("pow-2", K([](const Tensor<T>& x) { return pow(x, -2.0); }), [](double x) { return 1 / (x * x); }, 0.5, 4);
  check_unary<T>("pow0.5", K([](const Tensor<T>& x) { return pow(x, 0.5); }), [](double x) { return std::sqrt(x); }, 0, 9);
  check_unary<T>("pow1.7", K([](const Tensor<T>& x) { return pow(x, 1.7); }), [](double x) { return std::pow(x, 1.7); }, 0.01, 9, 4);
  check_unary<T>("add_scalar", K([](const Tensor<T>& x) { return add_scalar(x, 2.5); }), [](double x) { return x + 2.5; }, -5, 5);
  check_unary<T>("mul_scalar", K([](const Tensor<T>& x) { return mul_scalar(x, -0.5); }), [](double x) { return -0.5 * x; }, -5, 5);
  check_unary<T>("affine_scalar", K([](const Tensor<T>& x) { return affine_scalar(x, -1.0, 3.0); }), [](double x) { return 3 - x; }, -5, 5);
  check_unary<T>("scalar_div", K([](const Tensor<T>& x) { return scalar_div(2.0, x); }), [](double x) { return 2 / x; }, 0.5, 5);
}

TEMPLATE_TEST_CASE("elementwise: stable functions stay finite at extreme inputs", "[tensor][elementwise]",
                   float, double) {
  using T = TestType;
  const Tensor<T> x({6}, {T(-1000), T(-90), T(0), T(90), T(1000), T(-1e30)});
  const Tensor<T> ls = logsigmoid(x), sp = softplus(x), sg = sigmoid(x);
  for (std::size_t i = 0; i < 6; ++i) {
    REQUIRE(std::isfinite(double(ls[i])));
    REQUIRE(std::isfinite(double(sp[i])));
    REQUIRE(std::isfinite(double(sg[i])));
  }
  REQUIRE(double(ls[0]) == Approx(-1000));
  REQUIRE(double(ls[4]) == Approx(0).margin(1e-30));
  REQUIRE(double(sp[4]) == Approx(1000));
  REQUIRE(double(sp[0]) == Approx(0).margin(1e-30));
  REQUIRE(double(sg[0]) == 0.0);
  REQUIRE(double(sg[4]) == 1.0);
  REQUIRE(double(ls[2]) == Approx(-std::log(2.0)));
}

TEMPLATE_TEST_CASE("elementwise: binary kernels broadcast like NumPy", "[tensor][elementwise]", float,
                   double) {
  using T = TestType;
  using K = std::function<Tensor<T>(const Tensor<T>&, const Tensor<T>&)>;
  check_binary<T>("add", K([](const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }),
                  [](double a, double b) { return a + b; }, -3, 3);
  check_binary<T>("sub", K([](const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }),
                  [](double a, double b) { return a - b; }, -3, 3);
  check_binary<T>("mul", K([](const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }),
                  [](double a, double b) { return a * b; }, -3, 3);
  check_binary<T>("div", K([](const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }),
                  [](double a, double b) { return a / b; }, 0.5, 3);
  check_binary<T>("maximum", K([](const Tensor<T>& a, const Tensor<T>& b) { return maximum(a, b); }),
                  [](double a, double b) { return std::max(a, b); }, -3, 3);
  check_binary<T>("minimum", K([](const Tensor<T>& a, const Tensor<T>& b) { return minimum(a, b); }),
                  [](double a, double b) { return std::min(a, b); }, -3, 3);
  check_binary<T>("pow", K([](const Tensor<T>& a, const Tensor<T>& b) { return pow(a, b); }),
                  [](double a, double b) { return std::pow(a, b); }, 0.5, 2);
  check_binary<T>("maximum_weight", K([](const Tensor<T>& a, const Tensor<T>& b) { return maximum_weight(a, b); }),
                  [](double a, double b) { return a > b ? 1.0 : (a == b ? 0.5 : 0.0); }, -3, 3);
}

TEMPLATE_TEST_CASE("elementwise: broadcasting errors name the op and both shapes", "[tensor][elementwise]",
                   float, double) {
  using T = TestType;
  const Tensor<T> a({2, 3}), b({4});
  REQUIRE_THROWS_AS(add(a, b), std::invalid_argument);
  REQUIRE_THROWS_WITH(mul(a, b), Catch::StartsWith("mul:") && Catch::Contains("(2, 3)") && Catch::Contains("(4,)"));
  REQUIRE_THROWS_WITH(div(b, a), Catch::StartsWith("div:"));
  Tensor<T> d({3});
  REQUIRE_THROWS_WITH(add_inplace(d, b), Catch::Contains("add_inplace"));
  REQUIRE_THROWS_AS(clamp(d, 1.0, -1.0), std::invalid_argument);
}

TEMPLATE_TEST_CASE("elementwise: affine_elementwise equals x * scale + shift", "[tensor][elementwise]",
                   float, double) {
  using T = TestType;
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{4, 3, 5, 5}, {4, 3, 5, 5}}, {{4, 3, 5, 5}, {3, 1, 1}}, {{4, 3, 5, 5}, {1, 3, 1, 1}},
      {{7, 2}, {2}}, {{7, 2}, {}}, {{7, 2}, {7, 1}}, {{64, 8, 16, 16}, {8, 1, 1}}};
  for (const auto& c : cases) {
    const Tensor<T> x = filled<T>(c.first, -2, 2, 1), s = filled<T>(c.second, 0.5, 2, 2),
                    t = filled<T>(c.second, -1, 1, 3);
    const Tensor<T> y = affine_elementwise(x, s, t), want = add(mul(x, s), t);
    REQUIRE(y.shape() == want.shape());
    for (std::size_t i = 0; i < y.numel(); ++i) REQUIRE(double(y[i]) == Approx(double(want[i])).epsilon(1e-6).margin(1e-6));
  }
  // Different scale and shift shapes take the two-pass path.
  const Tensor<T> x = filled<T>({3, 4}, -2, 2, 1), s = filled<T>({4}, 1, 2, 2), t = filled<T>({3, 1}, -1, 1, 3);
  const Tensor<T> y = affine_elementwise(x, s, t);
  REQUIRE(double(y.at({2, 1})) == Approx(double(x.at({2, 1}) * s[1] + t[2])));
}

TEMPLATE_TEST_CASE("elementwise: in-place helpers write into the destination", "[tensor][elementwise]",
                   float, double) {
  using T = TestType;
  for (std::size_t n : kSizes) {
    const Tensor<T> src = spread<T>(n, -2, 2, 3);
    Tensor<T> d = spread<T>(n, -1, 1, 7);
    const Tensor<T> d0 = d.clone();
    const T* before = d.data();
    add_inplace(d, src);
    REQUIRE(d.data() == before);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(d[i] == d0[i] + src[i]);
    sub_inplace(d, src);
    axpy_inplace(d, 0.5, src);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(double(d[i]) == Approx(double(d0[i]) + 0.5 * src[i]).margin(1e-6));
    d.copy_from(d0);
    axpby_inplace(d, 2.0, src, 0.25);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(double(d[i]) == Approx(0.25 * d0[i] + 2.0 * src[i]).margin(1e-6));
    d.copy_from(d0);
    scale_inplace(d, -3.0);
    add_scalar_inplace(d, 1.0);
    mul_inplace(d, src);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(double(d[i]) == Approx((1 - 3.0 * d0[i]) * src[i]).margin(1e-6));
  }
}

TEMPLATE_TEST_CASE("elementwise: gradient helpers match their formulas", "[tensor][elementwise]", float,
                   double) {
  using T = TestType;
  for (std::size_t n : {std::size_t(17), std::size_t(100003)}) {
    const Tensor<T> g = spread<T>(n, -2, 2, 11), x = spread<T>(n, -3, 3, 4);
    const Tensor<T> sx = sigmoid(x), tx = tanh(x), ex = elu(x, 0.7);
    const Tensor<T> pos = spread<T>(n, 0.2, 3, 9);
    const Tensor<T> rb = relu_backward(g, x), lb = leaky_relu_backward(g, x, 0.2),
                    eb = elu_backward(g, x, ex, 0.7), cb = clamp_backward(g, x, -1.0, 1.5),
                    ab = abs_backward(g, x), sb = sigmoid_backward(g, sx), tb = tanh_backward(g, tx),
                    spb = softplus_backward(g, x), lsb = logsigmoid_backward(g, x),
                    l1b = log1p_backward(g, pos), sqb = sqrt_backward(g, sqrt(pos)),
                    pb = pow_backward(g, pos, 2.5), pib = pow_backward(g, x, 3.0);
    for (std::size_t i = 0; i < n; i += (n > 100 ? 97 : 1)) {
      const double gi = g[i], xi = x[i], si = ref_sigmoid(xi), pi = pos[i];
      REQUIRE(double(rb[i]) == Approx(xi > 0 ? gi : 0.0));
      REQUIRE(double(lb[i]) == Approx(xi > 0 ? gi : 0.2 * gi));
      REQUIRE(double(eb[i]) == Approx(xi > 0 ? gi : gi * 0.7 * std::exp(xi)).epsilon(1e-5));
      REQUIRE(double(cb[i]) == Approx(xi >= -1 && xi <= 1.5 ? gi : 0.0));
      REQUIRE(double(ab[i]) == Approx(xi > 0 ? gi : -gi));
      REQUIRE(double(sb[i]) == Approx(gi * si * (1 - si)).epsilon(1e-5).margin(1e-7));
      REQUIRE(double(tb[i]) == Approx(gi * (1 - std::tanh(xi) * std::tanh(xi))).epsilon(1e-5).margin(1e-6));
      REQUIRE(double(spb[i]) == Approx(gi * si).epsilon(1e-5));
      REQUIRE(double(lsb[i]) == Approx(gi * (1 - si)).epsilon(1e-5));
      REQUIRE(double(l1b[i]) == Approx(gi / (1 + pi)).epsilon(1e-5));
      REQUIRE(double(sqb[i]) == Approx(gi / (2 * std::sqrt(pi))).epsilon(1e-5));
      REQUIRE(double(pb[i]) == Approx(gi * 2.5 * std::pow(pi, 1.5)).epsilon(1e-5));
      REQUIRE(double(pib[i]) == Approx(gi * 3 * xi * xi).epsilon(1e-5));
    }
  }
}
