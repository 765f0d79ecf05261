// tests/tensor/test_reference_kernels.cpp — every fast tensor kernel (SIMD/TBB) against its plain
// xtensor form in tensor/*_reference.cpp, on random shapes: odd sizes around the SIMD width,
// size-0 and size-1 axes, 0-d tensors, NumPy broadcasting of every axis pattern; float and
// double. Then the switch: with reference_ops() on, the fast entry points return exactly what
// the reference forms return, shown on a float sum where the fast and the plain summation
// orders give different floats.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tensor/broadcast_reference.hpp"
#include "tensor/elementwise_reference.hpp"
#include "tensor/layout_reference.hpp"
#include "tensor/random.hpp"
#include "tensor/reduce_reference.hpp"
#include "tensor/reference_mode.hpp"
#include "tensor/simd.hpp"

using namespace fz;

namespace {

constexpr std::size_t kW = simd::width<float>;

// An axis size: mostly small odd ones and the SIMD edges, sometimes 1, rarely 0.
std::size_t random_axis(Rng& rng) {
  const std::size_t choices[] = {1, 1, 2, 3, 5, 7, kW - 1, kW + 1, 2 * kW + 3, 0};
  const std::size_t k = rng.below(100) < 4 ? 9 : rng.below(9);
  return choices[k];
}

Shape random_shape(Rng& rng, std::size_t max_dim = 4) {
  Shape s(rng.below(max_dim + 1));
  for (auto& d : s) d = random_axis(rng);
  for (std::size_t d = s.size(); d-- > 0 && shape_numel(s) > 6000;) s[d] = 1;
  return s;
}

// A shape that broadcasts to `out`: some leading axes dropped, some axes set to 1.
Shape broadcast_operand(Rng& rng, const Shape& out) {
  const std::size_t drop = rng.below(out.size() + 1);
  Shape s(out.begin() + static_cast<long>(drop), out.end());
  for (auto& d : s)
    if (rng.bernoulli(0.35)) d = 1;
  return s;
}

// Values in [lo, hi], rounded to a quarter in `coarse` mode so that ties (max, maximum) happen.
template <typename T>
Tensor<T> values(Rng& rng, const Shape& shape, double lo, double hi, bool coarse = false) {
  Tensor<T> t = rng.uniform<T>(shape, static_cast<T>(lo), static_cast<T>(hi));
  if (coarse)
    for (T& v : t) v = std::round(v * T(4)) / T(4);
  return t;
}

template <typename T>
double rel_tol() {
  return sizeof(T) == 4 ? 2e-6 : 1e-13;
}

// |fast - ref| <= tol (1 + |ref|) element by element; NaN matches NaN, inf matches inf.
template <typename T>
void check_close(const Tensor<T>& fast, const Tensor<T>& ref, double tol, const std::string& what) {
  INFO(what << ": fast " << shape_str(fast.shape()) << ", reference " << shape_str(ref.shape()));
  REQUIRE(fast.shape() == ref.shape());
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < ref.numel(); ++i) {
    const double a = fast[i], b = ref[i];
    const bool ok = (std::isnan(a) && std::isnan(b)) || a == b || std::abs(a - b) <= tol * (1 + std::abs(b));
    if (!ok && bad++ == 0) first = i;
  }
  INFO("first mismatch at flat index " << first << ": " << (ref.numel() ? double(fast[first]) : 0.0)
                                      << " vs " << (ref.numel() ? double(ref[first]) : 0.0));
  CHECK(bad == 0);
}

template <typename T>
void check_equal(const Tensor<T>& fast, const Tensor<T>& ref, const std::string& what) {
  INFO(what << ": fast " << shape_str(fast.shape()) << ", reference " << shape_str(ref.shape()));
  REQUIRE(fast.shape() == ref.shape());
  CHECK(fast.to_vector() == ref.to_vector());
}

template <typename T>
using Unary = std::function<Tensor<T>(const Tensor<T>&)>;
template <typename T>
struct UnaryCase {
  const char* name;
  Unary<T> fast, ref;
  double lo, hi;  // input domain
};

template <typename T>
std::vector<UnaryCase<T>> unary_cases() {
  using X = const Tensor<T>&;
#define FZ_UNARY(op, lo, hi) {#op, [](X x) { return fz::op(x); }, [](X x) { return fz::reference::op(x); }, lo, hi}
  return {
      FZ_UNARY(neg, -5, 5),       FZ_UNARY(exp, -20, 20),     FZ_UNARY(expm1, -3, 3),
      FZ_UNARY(log, 1e-3, 50),    FZ_UNARY(log1p, -0.9, 20),  FZ_UNARY(sqrt, 0, 50),
      FZ_UNARY(rsqrt, 1e-2, 50),  FZ_UNARY(reciprocal, 0.1, 9), FZ_UNARY(abs, -5, 5),
      FZ_UNARY(sign, -2, 2),      FZ_UNARY(square, -5, 5),    FZ_UNARY(tanh, -6, 6),
      FZ_UNARY(sigmoid, -30, 30), FZ_UNARY(logsigmoid, -30, 30), FZ_UNARY(softplus, -30, 30),
      FZ_UNARY(relu, -3, 3),
      {"leaky_relu", [](X x) { return fz::leaky_relu(x, 0.1); }, [](X x) { return reference::leaky_relu(x, 0.1); }, -3, 3},
      {"elu", [](X x) { return fz::elu(x, 0.7); }, [](X x) { return reference::elu(x, 0.7); }, -3, 3},
      {"clamp", [](X x) { return fz::clamp(x, -1.0, 0.5); }, [](X x) { return reference::clamp(x, -1.0, 0.5); }, -3, 3},
      {"pow 3", [](X x) { return fz::pow(x, 3.0); }, [](X x) { return reference::pow(x, 3.0); }, -3, 3},
      {"pow -2", [](X x) { return fz::pow(x, -2.0); }, [](X x) { return reference::pow(x, -2.0); }, 0.2, 3},
      {"pow 0.5", [](X x) { return fz::pow(x, 0.5); }, [](X x) { return reference::pow(x, 0.5); }, 0, 3},
      {"pow 1.7", [](X x) { return fz::pow(x, 1.7); }, [](X x) { return reference::pow(x, 1.7); }, 0.1, 3},
      {"add_scalar", [](X x) { return fz::add_scalar(x, 1.5); }, [](X x) { return reference::add_scalar(x, 1.5); }, -3, 3},
      {"mul_scalar", [](X x) { return fz::mul_scalar(x, -0.3); }, [](X x) { return reference::mul_scalar(x, -0.3); }, -3, 3},
      {"affine_scalar", [](X x) { return fz::affine_scalar(x, 2.5, -1.0); }, [](X x) { return reference::affine_scalar(x, 2.5, -1.0); }, -3, 3},
      {"scalar_div", [](X x) { return fz::scalar_div(3.0, x); }, [](X x) { return reference::scalar_div(3.0, x); }, 0.1, 3},
  };
#undef FZ_UNARY
}

template <typename T>
using Binary = std::function<Tensor<T>(const Tensor<T>&, const Tensor<T>&)>;
template <typename T>
struct BinaryCase {
  const char* name;
  Binary<T> fast, ref;
  double lo, hi;
};

template <typename T>
std::vector<BinaryCase<T>> binary_cases() {
  using X = const Tensor<T>&;
#define FZ_BINARY(op, lo, hi) \
  {#op, [](X a, X b) { return fz::op(a, b); }, [](X a, X b) { return fz::reference::op(a, b); }, lo, hi}
  return {FZ_BINARY(add, -3, 3),     FZ_BINARY(sub, -3, 3),     FZ_BINARY(mul, -3, 3),
          FZ_BINARY(div, 0.25, 3),   FZ_BINARY(maximum, -2, 2), FZ_BINARY(minimum, -2, 2),
          FZ_BINARY(pow, 0.25, 2),   FZ_BINARY(maximum_weight, -1, 1)};
#undef FZ_BINARY
}

}  // namespace

TEMPLATE_TEST_CASE("reference kernels: unary and scalar-operand elementwise ops", "[tensor][reference]",
                   float, double) {
  using T = TestType;
  ReferenceOpsScope fast_path(false);
  Rng rng(1401);
  for (int trial = 0; trial < 40; ++trial) {
    Shape s = random_shape(rng);
    if (trial == 0) s = {4 * kW + 1};  // whole batches plus a tail
    for (const auto& c : unary_cases<T>()) {
      const Tensor<T> x = values<T>(rng, s, c.lo, c.hi);
      check_close(c.fast(x), c.ref(x), rel_tol<T>(), std::string(c.name) + " on " + shape_str(s));
    }
  }
}

TEMPLATE_TEST_CASE("reference kernels: binary ops with NumPy broadcasting", "[tensor][reference]", float,
                   double) {
  using T = TestType;
  ReferenceOpsScope fast_path(false);
  Rng rng(1402);
  for (int trial = 0; trial < 40; ++trial) {
    const Shape out = random_shape(rng);
    Shape sa = broadcast_operand(rng, out), sb = broadcast_operand(rng, out);
    if (trial % 5 == 0) sa = out;  // the dense-operand fast paths
    if (trial % 7 == 0) sb = Shape{};
    for (const auto& c : binary_cases<T>()) {
      const Tensor<T> a = values<T>(rng, sa, c.lo, c.hi, true), b = values<T>(rng, sb, c.lo, c.hi, true);
      const std::string what = std::string(c.name) + " " + shape_str(sa) + " with " + shape_str(sb);
      check_close(c.fast(a, b), c.ref(a, b), rel_tol<T>(), what);
      check_close(c.fast(b, a), c.ref(b, a), rel_tol<T>(), what + " (swapped)");
    }
    // affine_elementwise: x * scale + shift, scale and shift sharing a shape or not.
    const Tensor<T> x = values<T>(rng, out, -2, 2);
    const Tensor<T> scale = values<T>(rng, sa, -2, 2);
    const Tensor<T> shift = values<T>(rng, trial % 2 ? sa : sb, -2, 2);
    check_close(affine_elementwise(x, scale, shift), reference::affine_elementwise(x, scale, shift),
                rel_tol<T>(), "affine_elementwise on " + shape_str(out));
  }
  // A shape mismatch is the same kind of error on both paths.
  const Tensor<T> a({2, 3}), b({4});
  CHECK_THROWS_AS(add(a, b), std::invalid_argument);
  CHECK_THROWS_AS(reference::add(a, b), std::invalid_argument);
}

TEMPLATE_TEST_CASE("reference kernels: in-place and gradient helpers", "[tensor][reference]", float,
                   double) {
  using T = TestType;
  ReferenceOpsScope fast_path(false);
  Rng rng(1403);
  for (int trial = 0; trial < 30; ++trial) {
    const Shape s = random_shape(rng);
    const Tensor<T> g = values<T>(rng, s, -2, 2), x = values<T>(rng, s, -2, 2, true);
    const Tensor<T> y01 = values<T>(rng, s, 0.01, 0.99), ypos = values<T>(rng, s, 0.1, 3);
    const Tensor<T> xpos = values<T>(rng, s, 0.1, 3);
    const double tol = rel_tol<T>();
    const std::string on = " on " + shape_str(s);

    const auto in_place = [&](const char* name, auto fast, auto ref) {
      Tensor<T> d1 = x.clone(), d2 = x.clone();
      fast(d1);
      ref(d2);
      check_close(d1, d2, tol, name + on);
    };
    in_place("add_inplace", [&](Tensor<T>& d) { add_inplace(d, g); }, [&](Tensor<T>& d) { reference::add_inplace(d, g); });
    in_place("sub_inplace", [&](Tensor<T>& d) { sub_inplace(d, g); }, [&](Tensor<T>& d) { reference::sub_inplace(d, g); });
    in_place("mul_inplace", [&](Tensor<T>& d) { mul_inplace(d, g); }, [&](Tensor<T>& d) { reference::mul_inplace(d, g); });
    in_place("axpy_inplace", [&](Tensor<T>& d) { axpy_inplace(d, 0.3, g); }, [&](Tensor<T>& d) { reference::axpy_inplace(d, 0.3, g); });
    in_place("axpby_inplace", [&](Tensor<T>& d) { axpby_inplace(d, 0.3, g, 0.9); },
             [&](Tensor<T>& d) { reference::axpby_inplace(d, 0.3, g, 0.9); });
    in_place("scale_inplace", [&](Tensor<T>& d) { scale_inplace(d, -1.5); }, [&](Tensor<T>& d) { reference::scale_inplace(d, -1.5); });
    in_place("add_scalar_inplace", [&](Tensor<T>& d) { add_scalar_inplace(d, 0.25); },
             [&](Tensor<T>& d) { reference::add_scalar_inplace(d, 0.25); });

    check_close(sigmoid_backward(g, y01), reference::sigmoid_backward(g, y01), tol, "sigmoid_backward" + on);
    check_close(tanh_backward(g, y01), reference::tanh_backward(g, y01), tol, "tanh_backward" + on);
    check_close(relu_backward(g, x), reference::relu_backward(g, x), tol, "relu_backward" + on);
    check_close(leaky_relu_backward(g, x, 0.2), reference::leaky_relu_backward(g, x, 0.2), tol, "leaky_relu_backward" + on);
    const Tensor<T> ex = elu(x, 0.7);
    check_close(elu_backward(g, x, ex, 0.7), reference::elu_backward(g, x, ex, 0.7), tol, "elu_backward" + on);
    check_close(clamp_backward(g, x, -0.5, 1.0), reference::clamp_backward(g, x, -0.5, 1.0), tol, "clamp_backward" + on);
    check_close(abs_backward(g, x), reference::abs_backward(g, x), tol, "abs_backward" + on);
    check_close(softplus_backward(g, x), reference::softplus_backward(g, x), tol, "softplus_backward" + on);
    check_close(logsigmoid_backward(g, x), reference::logsigmoid_backward(g, x), tol, "logsigmoid_backward" + on);
    check_close(log1p_backward(g, xpos), reference::log1p_backward(g, xpos), tol, "log1p_backward" + on);
    check_close(sqrt_backward(g, ypos), reference::sqrt_backward(g, ypos), tol, "sqrt_backward" + on);
    check_close(pow_backward(g, xpos, 3.0), reference::pow_backward(g, xpos, 3.0), tol, "pow_backward 3" + on);
    check_close(pow_backward(g, xpos, 1.5), reference::pow_backward(g, xpos, 1.5), tol, "pow_backward 1.5" + on);
  }
}

TEMPLATE_TEST_CASE("reference kernels: reductions over random axis sets", "[tensor][reference]", float,
                   double) {
  using T = TestType;
  ReferenceOpsScope fast_path(false);
  Rng rng(1404);
  const double eps = std::numeric_limits<T>::epsilon();
  for (int trial = 0; trial < 100; ++trial) {
    const Shape s = random_shape(rng);
    const Tensor<T> x = values<T>(rng, s, -3, 3, true);  // coarse: ties for max / argmax
    std::vector<int> axes;
    for (std::size_t d = 0; d < s.size(); ++d)
      if (rng.bernoulli(0.5)) axes.push_back(rng.bernoulli(0.5) ? int(d) : int(d) - int(s.size()));
    const bool keepdim = rng.bernoulli(0.5);
    const std::string on = " on " + shape_str(s) + " over " + std::to_string(axes.size()) + " axes" +
                           (keepdim ? " (keepdim)" : "");

    // Sums: any summation order is within count * eps * sum|x| of any other.
    const Tensor<T> bound = sum(abs(x), axes, keepdim);
    const Tensor<T> fs = sum(x, axes, keepdim), rs = reference::sum(x, axes, keepdim);
    REQUIRE(fs.shape() == rs.shape());
    const double count = double(std::max<std::size_t>(1, x.numel())) / double(std::max<std::size_t>(1, fs.numel()));
    for (std::size_t i = 0; i < fs.numel(); ++i)
      CHECK(std::abs(double(fs[i]) - double(rs[i])) <= count * eps * double(bound[i]) + 1e-30);
    check_close(mean(x, axes, keepdim), reference::mean(x, axes, keepdim), count * eps * 3, "mean" + on);
    check_close(logsumexp(x, axes, keepdim), reference::logsumexp(x, axes, keepdim), count * eps * 4, "logsumexp" + on);
    const Tensor<T> expected_grad = values<T>(rng, fs.shape(), -1, 1);
    check_equal(expand_reduced(expected_grad, s, axes, T(0.5)), reference::expand_reduced(expected_grad, s, axes, T(0.5)),
                "expand_reduced" + on);

    if (x.numel() > 0) {
      check_equal(max(x, axes, keepdim), reference::max(x, axes, keepdim), "max" + on);
      std::vector<std::size_t> fi, ri;
      check_equal(max_with_index(x, axes, keepdim, fi), reference::max_with_index(x, axes, keepdim, ri),
                  "max_with_index" + on);
      CHECK(fi == ri);  // the first maximal element, ties included
      if (!s.empty()) {
        const int axis = int(rng.below(s.size()));
        CHECK(argmax(x, axis) == reference::argmax(x, axis));
      }
    } else if (fs.numel() > 0) {
      CHECK_THROWS_AS(max(x, axes, keepdim), std::invalid_argument);
      CHECK_THROWS_AS(reference::max(x, axes, keepdim), std::invalid_argument);
    }
  }
  // All-element forms, including an empty tensor (sum 0, mean NaN, logsumexp -inf).
  for (const Shape& s : {Shape{}, Shape{0}, Shape{kW + 1}, Shape{3, 0, 2}, Shape{2, 2 * kW + 3}}) {
    const Tensor<T> x = values<T>(rng, s, -3, 3);
    check_close(sum(x), reference::sum(x), 1e-5, "sum() on " + shape_str(s));
    check_close(mean(x), reference::mean(x), 1e-5, "mean() on " + shape_str(s));
    check_close(logsumexp(x), reference::logsumexp(x), 1e-5, "logsumexp() on " + shape_str(s));
  }
  // -inf and +inf rows: the max is the answer.
  const T inf = std::numeric_limits<T>::infinity();
  const Tensor<T> x({2, 3}, {-inf, -inf, -inf, 1, inf, 2});
  check_equal(logsumexp(x, 1), reference::logsumexp(x, 1), "logsumexp of infinite rows");
  check_equal(max(x, 1), reference::max(x, 1), "max of infinite rows");  // -inf, not the lowest float
  const Tensor<T> with_nan({2, 3}, {1, std::numeric_limits<T>::quiet_NaN(), 2, 4, 5, 6});
  check_close(max(with_nan, 1), reference::max(with_nan, 1), 0.0, "max propagates NaN");
  CHECK(std::isnan(reference::max(with_nan, 1)[0]));
}

TEMPLATE_TEST_CASE("reference kernels: broadcast_to and sum_to", "[tensor][reference]", float, double) {
  using T = TestType;
  ReferenceOpsScope fast_path(false);
  Rng rng(1405);
  const double eps = std::numeric_limits<T>::epsilon();
  for (int trial = 0; trial < 60; ++trial) {
    const Shape out = random_shape(rng);
    Shape small = broadcast_operand(rng, out);
    if (trial % 6 == 0) small.insert(small.begin(), 1);  // a leading 1 beyond the gradient's rank
    const Tensor<T> x = values<T>(rng, small, -2, 2);
    if (small.size() <= out.size())
      check_equal(broadcast_to(x, out), reference::broadcast_to(x, out),
                  "broadcast_to " + shape_str(small) + " -> " + shape_str(out));
    const Tensor<T> g = values<T>(rng, out, -2, 2);
    const Tensor<T> fs = sum_to(g, small), rs = reference::sum_to(g, small);
    INFO("sum_to " << shape_str(out) << " -> " << shape_str(small));
    REQUIRE(fs.shape() == rs.shape());
    const Tensor<T> bound = sum_to(abs(g), small);
    const double count = double(std::max<std::size_t>(1, g.numel())) / double(std::max<std::size_t>(1, fs.numel()));
    for (std::size_t i = 0; i < fs.numel(); ++i)
      CHECK(std::abs(double(fs[i]) - double(rs[i])) <= count * eps * double(bound[i]) + 1e-30);
  }
  CHECK_THROWS_AS(reference::broadcast_to(Tensor<T>({3}), {2, 4}), std::invalid_argument);
  CHECK_THROWS_AS(reference::sum_to(Tensor<T>({2, 4}), {3}), std::invalid_argument);
}

TEMPLATE_TEST_CASE("reference kernels: layout ops are exact", "[tensor][reference]", float, double,
                   std::uint8_t) {
  using T = TestType;
  ReferenceOpsScope fast_path(false);
  Rng rng(1406);
  const auto fill = [&](const Shape& s) {
    Tensor<T> t(s);
    for (std::size_t i = 0; i < t.numel(); ++i) t[i] = static_cast<T>(rng.below(250));
    return t;
  };
  for (int trial = 0; trial < 60; ++trial) {
    const Shape s = random_shape(rng);
    const Tensor<T> x = fill(s);
    const std::string on = " on " + shape_str(s);
    std::vector<int> perm(s.size());
    const std::vector<std::size_t> p = rng.permutation(s.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = int(p[i]);
    check_equal(permute(x, perm), reference::permute(x, perm), "permute" + on);
    if (s.empty()) continue;
    const int axis = int(rng.below(s.size())), other = int(rng.below(s.size()));
    const long n = long(s[std::size_t(axis)]);
    check_equal(transpose(x, axis, other - int(s.size())), reference::transpose(x, axis, other - int(s.size())),
                "transpose" + on);
    const long start = n ? long(rng.below(std::size_t(n) + 1)) : 0;
    const long stop = start + long(rng.below(std::size_t(n - start) + 1));
    check_equal(slice(x, axis, start, stop), reference::slice(x, axis, start, stop), "slice" + on);
    check_equal(slice(x, axis, -n, stop - n), reference::slice(x, axis, -n, stop - n), "slice, negative" + on);
    check_equal(flip(x, axis), reference::flip(x, axis), "flip" + on);

    Shape s2 = s;
    s2[std::size_t(axis)] = random_axis(rng);
    const Tensor<T> y = fill(s2), z = fill(s);
    check_equal(concat({x, y, z}, axis), reference::concat(std::vector<Tensor<T>>{x, y, z}, axis), "concat" + on);
    const auto fc = chunk(x, 3, axis), rc = reference::chunk(x, 3, axis);
    REQUIRE(fc.size() == rc.size());
    for (std::size_t k = 0; k < fc.size(); ++k) check_equal(fc[k], rc[k], "chunk" + on);

    PadWidths w;
    for (std::size_t d = rng.below(s.size() + 1); d < s.size(); ++d) w.push_back({rng.below(3), rng.below(3)});
    const Tensor<T> fp = pad(x, w, T(9));
    check_equal(fp, reference::pad(x, w, T(9)), "pad" + on);
    check_equal(unpad(fp, w), reference::unpad(fp, w), "unpad" + on);
    check_equal(reference::unpad(fp, w), x, "unpad(pad(x)) = x" + on);
  }
  for (const Shape& s : {Shape{1, 1, 2, 2}, Shape{2, 3, 4, 6}, Shape{1, 2, 2 * kW + 2, 2}, Shape{0, 2, 4, 4}}) {
    const Tensor<T> x = fill(s);
    const Tensor<T> sq = squeeze2d(x);
    check_equal(sq, reference::squeeze2d(x), "squeeze2d on " + shape_str(s));
    check_equal(unsqueeze2d(sq), reference::unsqueeze2d(sq), "unsqueeze2d on " + shape_str(sq.shape()));
    check_equal(pad2d(x, 1, 0, 2, 1, T(3)), reference::pad2d(x, 1, 0, 2, 1, T(3)), "pad2d on " + shape_str(s));
  }
  CHECK_THROWS_AS(reference::slice(fill({4}), 0, 3, 2), std::out_of_range);
  CHECK_THROWS_AS(reference::squeeze2d(fill({1, 1, 3, 2})), std::invalid_argument);
  CHECK_THROWS_AS(reference::concat(std::vector<Tensor<T>>{fill({2, 3}), fill({3, 3})}, 1), std::invalid_argument);
}

TEST_CASE("reference kernels: reference_ops() routes the fast entry points to the plain forms",
          "[tensor][reference]") {
  // One big value and many ones: x = [1e8, 1, 1, ..., 1]. The fast kernel accumulates float
  // SIMD lanes within a block before going to double, so the ones that share a lane with 1e8
  // are lost (1e8 + 1 == 1e8 in float; one per block row, 31 or more per block). The plain form
  // adds in order in double and rounds once, so it is within half a float ulp (4 at 1e8) of the
  // exact 1e8 + n - 1. Two different floats: which one sum() returns shows which path ran.
  const std::size_t n = 4096;
  Tensor<float> x = Tensor<float>::ones({n});
  x[0] = 1e8f;
  const double exact = 1e8 + double(n - 1);
  const float plain = reference::sum(x).item();
  float fast_value = 0, routed_value = 0;
  {
    ReferenceOpsScope off(false);
    fast_value = sum(x).item();
  }
  {
    ReferenceOpsScope on(true);
    CHECK(reference_ops());
    routed_value = sum(x).item();
  }
  INFO("exact " << exact << ", plain " << plain << ", fast " << fast_value << ", routed " << routed_value);
  CHECK(std::abs(double(plain) - exact) <= 4.0);
  CHECK(std::abs(double(fast_value) - exact) >= 16.0);  // the float-lane rounding of the fast path
  CHECK(routed_value == plain);                          // the switch ran the plain form...
  CHECK(routed_value != fast_value);                     // ...and not the fast one

  // Both ways, every family gives the same values (bit for bit with the switch on, since the
  // entry points then return the reference result itself).
  Rng rng(1407);
  const Tensor<double> a = rng.normal<double>({3, 5}), b = rng.normal<double>({5});
  const Tensor<double> c4 = rng.normal<double>({2, 3, 4, 6});
  ReferenceOpsScope on(true);
  check_equal(add(a, b), reference::add(a, b), "add");
  check_equal(exp(a), reference::exp(a), "exp");
  check_equal(logsumexp(a, 1), reference::logsumexp(a, 1), "logsumexp");
  check_equal(sum_to(a, {1, 5}), reference::sum_to(a, {1, 5}), "sum_to");
  check_equal(broadcast_to(b, {3, 5}), reference::broadcast_to(b, {3, 5}), "broadcast_to");
  check_equal(squeeze2d(c4), reference::squeeze2d(c4), "squeeze2d");
  check_equal(concat({a, a}, 0), reference::concat(std::vector<Tensor<double>>{a, a}, 0), "concat");
  Tensor<double> d = a.clone();
  add_inplace(d, a);
  check_equal(d, mul_scalar(a, 2.0), "add_inplace");
}
