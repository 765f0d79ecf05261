// tests/autograd/test_gradcheck_spline.cpp — the fused rational-quadratic spline op
// (autograd/ops_rational_quadratic_spline.hpp): full-Jacobian float64 gradcheck of the value,
// the log-derivative and both together, with respect to the input and the parameters, forward
// and inverse, at points inside bins, in the tails, near knots and near +-B; the values against
// a plain scalar transcription of the paper's formulas; log-derivative against central
// differences; round trips in double and float; monotonicity; continuity at the knots and at
// +-B; finiteness for extreme parameters; the errors for bad shapes and options; and equality
// with rational_quadratic_spline_reference, the same spline built from primitive ops; the same
// bits on 1 and 2 threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_rational_quadratic_spline.hpp"
#include "autograd/ops_reduce.hpp"
#include "tensor/random.hpp"
#include "tests/thread_count.hpp"
#include "tensor/reference_mode.hpp"
#include "tests/tensor_compare.hpp"

using namespace fz;
using fz::test::max_abs;

namespace {

using Options = RationalQuadraticSplineOptions;

Options make_options(std::size_t bins, double bound, bool inverse = false) {
  Options o;
  o.bins = bins;
  o.tail_bound = bound;
  o.inverse = inverse;
  return o;
}

// The 3K - 1 parameters of element (b, j, r) of a (B, k, inner) input, blocked layout.
std::vector<double> element_params(const Tensor64& params, std::size_t K, std::size_t b,
                                   std::size_t j, std::size_t r, std::size_t k,
                                   std::size_t inner) {
  std::vector<double> th(3 * K - 1);
  for (std::size_t p = 0; p < th.size(); ++p)
    th[p] = params[((b * (3 * K - 1) + p) * k + j) * inner + r];
  return th;
}

// Knots of one spline, straight from the definition (softmax with a floor, cumulative sum).
struct Knots {
  std::vector<double> x, y, d;
};

Knots knots_of(const std::vector<double>& th, const Options& o) {
  const std::size_t K = o.bins;
  const double B = o.tail_bound;
  auto cumulative = [&](std::size_t first, double min_size) {
    double total = 0;
    std::vector<double> e(K);
    for (std::size_t i = 0; i < K; ++i) total += (e[i] = std::exp(th[first + i]));
    std::vector<double> knots(K + 1);
    knots[0] = -B;
    double cum = 0;
    for (std::size_t i = 0; i < K; ++i) {
      cum += min_size + (1 - K * min_size) * e[i] / total;
      knots[i + 1] = -B + 2 * B * cum;
    }
    knots[K] = B;
    return knots;
  };
  Knots kn{cumulative(0, o.min_bin_width), cumulative(K, o.min_bin_height), {}};
  kn.d.assign(K + 1, 1.0);
  for (std::size_t i = 1; i < K; ++i)
    kn.d[i] = o.min_derivative + std::log1p(std::exp(th[2 * K + i - 1]));
  return kn;
}

// The paper's forward formulas (Durkan et al. 2019, eqs. 4 and 5) for one scalar, written
// independently of the op: bin by std::upper_bound, identity outside [-B, B].
double reference_forward(double x, const std::vector<double>& th, const Options& o) {
  if (x < -o.tail_bound || x > o.tail_bound) return x;
  const Knots kn = knots_of(th, o);
  std::size_t k = std::size_t(std::upper_bound(kn.x.begin(), kn.x.end(), x) - kn.x.begin()) - 1;
  k = std::min(k, o.bins - 1);
  const double w = kn.x[k + 1] - kn.x[k], h = kn.y[k + 1] - kn.y[k], s = h / w;
  const double xi = (x - kn.x[k]) / w;
  return kn.y[k] + h * (s * xi * xi + kn.d[k] * xi * (1 - xi)) /
                       (s + (kn.d[k + 1] + kn.d[k] - 2 * s) * xi * (1 - xi));
}

Tensor64 random_params(const Shape& xshape, std::size_t K, double scale, Rng& rng) {
  Shape ps = xshape;
  ps[1] *= 3 * K - 1;
  Tensor64 p(ps);
  for (auto& v : p) v = rng.normal(0.0, scale);
  return p;
}

// One input value per element of a (n, k) tensor: inside bins, in both tails, near the x-knots
// (or y-knots for the inverse) at 1e-4 (farther than the gradcheck step moves a knot), near +-B.
Tensor64 probe_inputs(const Shape& xshape, const Tensor64& params, const Options& o, Rng& rng) {
  Tensor64 x(xshape);
  const std::size_t k = xshape[1], K = o.bins;
  const double B = o.tail_bound;
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const std::size_t b = i / k, j = i % k;
    const Knots kn = knots_of(element_params(params, K, b, j, 0, k, 1), o);
    const std::vector<double>& knots = o.inverse ? kn.y : kn.x;
    const std::size_t knot = 1 + i % (K - 1);
    switch (i % 6) {
      case 0: x[i] = rng.uniform(-B, B); break;
      case 1: x[i] = (i % 12 == 1 ? -1 : 1) * (B + 0.5 + rng.uniform()); break;  // tails
      case 2: x[i] = knots[knot] + 1e-4; break;
      case 3: x[i] = knots[knot] - 1e-4; break;
      case 4: x[i] = (i % 12 == 4 ? -B : B) * (1 - 1e-4); break;  // just inside +-B
      default: x[i] = 0.5 * (knots[knot] + knots[knot - 1]); break;
    }
  }
  return x;
}

void require_gradcheck(const VarFunction64& f, const std::vector<Tensor64>& in) {
  const GradcheckResult r = gradcheck(f, in);
  INFO(r.message);
  REQUIRE(r.entries_checked > 0);
  REQUIRE(r.ok);
}

}  // namespace

TEST_CASE("rational_quadratic_spline: values match the paper's formulas, identity in the tails",
          "[autograd][spline]") {
  Rng rng(3);
  for (std::size_t K : {2, 5, 8}) {
    const Options o = make_options(K, 2.5);
    const Shape xs{3, 2, 4};  // (B, k, inner): checks the blocked layout with trailing axes
    Shape ps = xs;
    ps[1] *= 3 * K - 1;
    Tensor64 params(ps);
    for (auto& v : params) v = rng.normal(0.0, 1.5);
    Tensor64 x(xs);
    for (auto& v : x) v = rng.uniform(-3.5, 3.5);
    const auto out = rational_quadratic_spline(Var64(x), Var64(params), o);
    for (std::size_t b = 0; b < 3; ++b)
      for (std::size_t j = 0; j < 2; ++j)
        for (std::size_t r = 0; r < 4; ++r) {
          const std::size_t i = (b * 2 + j) * 4 + r;
          const double want = reference_forward(x[i], element_params(params, K, b, j, r, 2, 4), o);
          INFO("K " << K << " element " << i << " x " << x[i]);
          CHECK(out.value.value()[i] == Approx(want).margin(1e-13));
          if (std::abs(x[i]) > 2.5) {
            CHECK(out.value.value()[i] == x[i]);
            CHECK(out.log_derivative.value()[i] == 0.0);
          }
        }
  }
}

TEST_CASE("rational_quadratic_spline: equal widths and heights with unit derivatives are the "
          "identity", "[autograd][spline]") {
  const std::size_t K = 6;
  Options o = make_options(K, 2.0);
  const Shape xs{1, 5};
  Tensor64 params({1, (3 * K - 1) * 5});
  // softplus(u) = 1 - min_derivative makes every interior derivative 1.
  const double unit = std::log(std::expm1(1.0 - o.min_derivative));
  for (std::size_t p = 0; p < 3 * K - 1; ++p)
    for (std::size_t j = 0; j < 5; ++j)
      params[p * 5 + j] = p < 2 * K ? 0.3 * double((p % K) * (j + 1)) : unit;
  const Tensor64 x({1, 5}, {-1.9, -0.7, 0.0, 0.4, 1.99});
  for (bool inverse : {false, true}) {
    o.inverse = inverse;
    const auto out = rational_quadratic_spline(Var64(x), Var64(params), o);
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(out.value.value()[i] == Approx(x[i]).margin(1e-12));
      CHECK(out.log_derivative.value()[i] == Approx(0.0).margin(1e-12));
    }
  }
}

TEST_CASE("rational_quadratic_spline: gradcheck of value and log-derivative wrt x and params",
          "[autograd][spline]") {
  Rng rng(11);
  for (std::size_t K : {2, 3, 8})
    for (bool inverse : {false, true}) {
      const Options o = make_options(K, 3.0, inverse);
      const Shape xs{4, 3};
      // Parameters N(0, 0.7^2): with wider ones a point 1e-4 from a knot sits so close (in
      // parameter space) to the bin change that central differences of step 1e-6 are off by
      // more than the tolerance, though the analytic gradient still matches smaller steps.
      const Tensor64 params = random_params(xs, K, 0.7, rng);
      const Tensor64 x = probe_inputs(xs, params, o, rng);
      INFO("K " << K << (inverse ? " inverse" : " forward"));
      require_gradcheck(
          [&](const std::vector<Var64>& v) { return rational_quadratic_spline(v[0], v[1], o).value; },
          {x, params});
      require_gradcheck(
          [&](const std::vector<Var64>& v) {
            return rational_quadratic_spline(v[0], v[1], o).log_derivative;
          },
          {x, params});
      // Both outputs into one loss: the combined backward sweep.
      require_gradcheck(
          [&](const std::vector<Var64>& v) {
            const auto out = rational_quadratic_spline(v[0], v[1], o);
            return out.value * 0.7 + out.log_derivative * 1.3;
          },
          {x, params});
    }
}

TEST_CASE("rational_quadratic_spline: gradcheck with trailing axes and one differentiable input",
          "[autograd][spline]") {
  Rng rng(5);
  const std::size_t K = 4;
  for (bool inverse : {false, true}) {
    const Options o = make_options(K, 2.0, inverse);
    const Shape xs{2, 2, 3};
    const Tensor64 params = random_params(xs, K, 1.0, rng);
    Tensor64 x(xs);
    for (auto& v : x) v = rng.uniform(-2.3, 2.3);
    require_gradcheck(
        [&](const std::vector<Var64>& v) {
          const auto out = rational_quadratic_spline(v[0], v[1], o);
          return out.value + out.log_derivative * 0.5;
        },
        {x, params});
    // Constant params: only x gets a gradient; constant x: only params.
    require_gradcheck(
        [&](const std::vector<Var64>& v) {
          const auto out = rational_quadratic_spline(v[0], Var64(params), o);
          return out.value - out.log_derivative;
        },
        {x});
    require_gradcheck(
        [&](const std::vector<Var64>& v) {
          const auto out = rational_quadratic_spline(Var64(x), v[0], o);
          return out.value - out.log_derivative;
        },
        {params});
  }
}

TEST_CASE("rational_quadratic_spline: the log-derivative is log of a central-difference dy/dx, "
          "and the inverse's is minus the forward's", "[autograd][spline]") {
  Rng rng(17);
  const std::size_t K = 7, n = 64;
  const Options fwd = make_options(K, 3.0), inv = make_options(K, 3.0, true);
  const Tensor64 params = random_params({n, 1}, K, 2.0, rng);
  Tensor64 x({n, 1});
  for (auto& v : x) v = rng.uniform(-2.99, 2.99);
  const double h = 1e-6;
  Tensor64 xp = x.clone(), xm = x.clone();
  for (auto& v : xp) v += h;
  for (auto& v : xm) v -= h;
  const auto out = rational_quadratic_spline(Var64(x), Var64(params), fwd);
  const auto op = rational_quadratic_spline(Var64(xp), Var64(params), fwd);
  const auto om = rational_quadratic_spline(Var64(xm), Var64(params), fwd);
  const auto back = rational_quadratic_spline(out.value, Var64(params), inv);
  for (std::size_t i = 0; i < n; ++i) {
    const double slope = (op.value.value()[i] - om.value.value()[i]) / (2 * h);
    INFO("x " << x[i]);
    // The difference quotient carries rounding error of about 1e-16 / h in absolute terms.
    CHECK(std::exp(out.log_derivative.value()[i]) == Approx(slope).epsilon(1e-6).margin(1e-9));
    CHECK(back.log_derivative.value()[i] ==
          Approx(-out.log_derivative.value()[i]).margin(1e-10));
  }
}

// Two regimes. Parameters N(0, 0.5^2), like a conditioner's output early in training: the
// round trip is exact to 1e-10 (double) and 1e-5 (float) in absolute terms. Parameters
// N(0, 2.5^2) make slopes as small as e^-13 and as large as e^7, where inverting a rounded y
// (or evaluating at a rounded x) is ill-conditioned whatever the algorithm: there the error
// in x is checked scaled by min(1, dy/dx), i.e. measured where it is well-defined.
TEMPLATE_TEST_CASE("rational_quadratic_spline: inverse(forward(x)) and forward(inverse(y)) round "
                   "trip", "[autograd][spline]", float, double) {
  // The fused op's accuracy (it computes each element in double); the plain form computes in T.
  const ReferenceOpsScope fused(false);
  using T = TestType;
  const bool is_double = std::is_same<T, double>::value;
  const double tol = is_double ? 1e-10 : 1e-5;
  Rng rng(23);
  for (double scale : {0.5, 2.5})
    for (std::size_t K : {2, 8, 16}) {
      const std::size_t n = 500;
      const Options fwd = make_options(K, 3.0), inv = make_options(K, 3.0, true);
      const Tensor<T> params = random_params({n, 2}, K, scale, rng).cast<T>();
      Tensor<T> x({n, 2});
      for (auto& v : x) v = T(rng.uniform(-4.0, 4.0));
      const auto y = rational_quadratic_spline(Var<T>(x), Var<T>(params), fwd);
      const auto xb = rational_quadratic_spline(y.value, Var<T>(params), inv);
      const auto yb = rational_quadratic_spline(Var<T>(x), Var<T>(params), inv);
      const auto xf = rational_quadratic_spline(yb.value, Var<T>(params), fwd);
      double worst = 0, worst_logd = 0;
      for (std::size_t i = 0; i < x.numel(); ++i) {
        // Slopes of the forward map at the point whose x is being recovered.
        const double slope_b = std::exp(double(y.log_derivative.value()[i]));
        const double slope_f = std::exp(-double(yb.log_derivative.value()[i]));
        const double wb = scale < 1 ? 1.0 : std::min(1.0, slope_b);
        const double wf = scale < 1 ? 1.0 : std::min(1.0, 1.0 / slope_f);
        worst = std::max(worst, wb * std::abs(double(xb.value.value()[i]) - double(x[i])));
        worst = std::max(worst, wf * std::abs(double(xf.value.value()[i]) - double(x[i])));
        if (scale < 1)
          worst_logd = std::max(worst_logd, std::abs(double(xb.log_derivative.value()[i]) +
                                                     double(y.log_derivative.value()[i])));
      }
      INFO("K " << K << " parameter scale " << scale);
      CHECK(worst < tol);
      CHECK(worst_logd < 10 * tol);
    }
}

TEST_CASE("rational_quadratic_spline: strictly increasing on a dense grid, continuous at the "
          "knots and at +-B", "[autograd][spline]") {
  Rng rng(29);
  const std::size_t K = 8;
  const double B = 3.0;
  const Options o = make_options(K, B);
  for (int trial = 0; trial < 4; ++trial) {
    const Tensor64 th_t = random_params({1, 1}, K, 3.0, rng);
    const std::vector<double> th(th_t.begin(), th_t.end());
    const std::size_t n = 20001;
    Tensor64 grid({n, 1});
    for (std::size_t i = 0; i < n; ++i) grid[i] = -4.0 + 8.0 * double(i) / double(n - 1);
    Tensor64 params({n, 3 * K - 1});
    for (std::size_t i = 0; i < n; ++i)
      std::copy(th.begin(), th.end(), params.begin() + i * (3 * K - 1));
    const auto out = rational_quadratic_spline(Var64(grid), Var64(params), o);
    for (std::size_t i = 1; i < n; ++i) REQUIRE(out.value.value()[i] > out.value.value()[i - 1]);

    // Just left and right of every knot (and of -B and B): y and log dy/dx agree.
    const Knots kn = knots_of(th, o);
    const double d = 1e-12;
    Tensor64 sides({2 * (K + 1), 1});
    for (std::size_t i = 0; i <= K; ++i) {
      sides[2 * i] = kn.x[i] - d;
      sides[2 * i + 1] = kn.x[i] + d;
    }
    Tensor64 sp({2 * (K + 1), 3 * K - 1});
    for (std::size_t i = 0; i < 2 * (K + 1); ++i)
      std::copy(th.begin(), th.end(), sp.begin() + i * (3 * K - 1));
    const auto s = rational_quadratic_spline(Var64(sides), Var64(sp), o);
    for (std::size_t i = 0; i <= K; ++i) {
      INFO("knot " << i << " at " << kn.x[i]);
      CHECK(s.value.value()[2 * i + 1] - s.value.value()[2 * i] == Approx(0).margin(1e-10));
      CHECK(s.value.value()[2 * i] == Approx(kn.y[i]).margin(1e-10));
      CHECK(s.log_derivative.value()[2 * i + 1] - s.log_derivative.value()[2 * i] ==
            Approx(0).margin(1e-6));
      CHECK(s.log_derivative.value()[2 * i] == Approx(std::log(kn.d[i])).margin(1e-6));
    }
  }
}

TEMPLATE_TEST_CASE("rational_quadratic_spline: extreme parameters stay finite", "[autograd][spline]",
                   float, double) {
  // A promise of the fused op; the plain form can round an inverse a hair past the tail bound.
  const ReferenceOpsScope fused(false);
  using T = TestType;
  const std::size_t K = 5, P = 3 * K - 1;
  const double B = 3.0;
  const std::vector<double> magnitudes = {50.0, 1e4, 1e30};
  Tensor<T> x({8, 1}, {T(-3.5), T(-3), T(-2.999), T(-1), T(0), T(1.7), T(2.9999), T(3)});
  for (double m : magnitudes)
    for (int pattern = 0; pattern < 4; ++pattern)
      for (bool inverse : {false, true}) {
        Tensor<T> params({8, P});
        for (std::size_t i = 0; i < 8; ++i)
          for (std::size_t p = 0; p < P; ++p) {
            const double sign = ((p + i + pattern) % 3 == 0) ? 1.0 : -1.0;
            params[i * P + p] = T(pattern == 3 ? (p % 2 ? m : -m) : sign * m);
          }
        Var<T> xv(x, true), pv(params, true);
        const auto out = rational_quadratic_spline(xv, pv, make_options(K, B, inverse));
        sum(out.value + out.log_derivative).backward();
        INFO("magnitude " << m << " pattern " << pattern << (inverse ? " inverse" : ""));
        for (std::size_t i = 0; i < 8; ++i) {
          REQUIRE(std::isfinite(out.value.value()[i]));
          REQUIRE(std::isfinite(out.log_derivative.value()[i]));
          REQUIRE(std::isfinite(xv.grad()[i]));
          REQUIRE(out.value.value()[i] >= T(-3.5));
          REQUIRE(out.value.value()[i] <= T(3));
        }
        for (std::size_t i = 0; i < params.numel(); ++i) REQUIRE(std::isfinite(pv.grad()[i]));
      }
}

TEST_CASE("rational_quadratic_spline: clear errors for bad shapes and options",
          "[autograd][spline]") {
  const Var64 x(Tensor64({2, 3}));
  const Var64 good(Tensor64({2, 3 * 23}));
  CHECK_NOTHROW(rational_quadratic_spline(x, good, make_options(8, 3.0)));
  CHECK_THROWS_WITH(rational_quadratic_spline(x, Var64(Tensor64({2, 20})), make_options(8, 3.0)),
                    Catch::Contains("params must be (2, 69)"));
  CHECK_THROWS_WITH(rational_quadratic_spline(x, Var64(Tensor64({3, 69})), make_options(8, 3.0)),
                    Catch::Contains("got (3, 69)"));
  CHECK_THROWS_WITH(rational_quadratic_spline(Var64(Tensor64({6})), good, make_options(8, 3.0)),
                    Catch::Contains("input must be (B, k, ...)"));
  CHECK_NOTHROW(rational_quadratic_spline(x, good, make_options(8, 3.0, true)));
  CHECK_THROWS_WITH(rational_quadratic_spline(x, Var64(Tensor64({2, 3})), make_options(1, 3.0)),
                    Catch::Contains("at least 2 bins, got 1"));
  CHECK_THROWS_WITH(rational_quadratic_spline(x, good, make_options(8, 0.0)),
                    Catch::Contains("tail_bound must be positive"));
  CHECK_THROWS_WITH(rational_quadratic_spline(x, good, make_options(8, -1.0)),
                    Catch::Contains("tail_bound must be positive"));
  Options o = make_options(8, 3.0);
  o.min_bin_width = 0.125;
  CHECK_THROWS_WITH(rational_quadratic_spline(x, good, o),
                    Catch::Contains("min_bin_width must be positive with bins * min_bin_width < 1"));
  o = make_options(8, 3.0);
  o.min_bin_height = 0.2;
  CHECK_THROWS_WITH(rational_quadratic_spline(x, good, o), Catch::Contains("min_bin_height"));
  o = make_options(8, 3.0);
  o.min_bin_width = 0.0;
  CHECK_THROWS_WITH(rational_quadratic_spline(x, good, o), Catch::Contains("min_bin_width"));
  o = make_options(8, 3.0);
  o.min_derivative = 0.0;
  CHECK_THROWS_WITH(rational_quadratic_spline(x, good, o),
                    Catch::Contains("min_derivative must be positive"));
}

namespace {

template <typename T>
double max_abs_diff(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

// Fused and plain forms on the same inputs: values, and the gradients of x and params for a
// random weighted sum of both outputs.
template <typename T>
void check_fused_equals_reference(const Shape& xs, std::size_t K, bool inverse, double tol,
                                  Rng& rng) {
  const Options o = make_options(K, 2.5, inverse);
  const Tensor<T> params = random_params(xs, K, 1.0, rng).template cast<T>();
  Tensor<T> x(xs), r1(xs), r2(xs);
  for (auto& v : x) v = T(rng.uniform(-3.2, 3.2));
  for (auto& v : r1) v = T(rng.normal());
  for (auto& v : r2) v = T(rng.normal());
  Var<T> fx(x, true), fp(params, true), rx(x, true), rp(params, true);
  const auto fused = rational_quadratic_spline(fx, fp, o);
  sum(fused.value * Var<T>(r1) + fused.log_derivative * Var<T>(r2)).backward();
  const auto plain = rational_quadratic_spline_reference(rx, rp, o);
  sum(plain.value * Var<T>(r1) + plain.log_derivative * Var<T>(r2)).backward();
  INFO("K " << K << (inverse ? " inverse" : " forward") << " shape " << shape_str(xs));
  CHECK(max_abs_diff(fused.value.value(), plain.value.value()) < tol);
  CHECK(max_abs_diff(fused.log_derivative.value(), plain.log_derivative.value()) < tol);
  // Gradients relative to their largest entry (1 / slope can reach the thousands).
  CHECK(max_abs_diff(fx.grad(), rx.grad()) < 10 * tol * std::max(1.0, max_abs(rx.grad())));
  CHECK(max_abs_diff(fp.grad(), rp.grad()) < 10 * tol * std::max(1.0, max_abs(rp.grad())));
}

}  // namespace

TEST_CASE("rational_quadratic_spline: the fused op equals the plain form in values and gradients",
          "[autograd][spline]") {
  Rng rng(61);
  for (std::size_t K : {2, 5, 8})
    for (bool inverse : {false, true}) {
      check_fused_equals_reference<double>({6, 2}, K, inverse, 1e-10, rng);
      check_fused_equals_reference<double>({2, 3, 2, 2}, K, inverse, 1e-10, rng);
      check_fused_equals_reference<float>({6, 2}, K, inverse, 2e-4, rng);
    }
}

TEST_CASE("rational_quadratic_spline_reference: gradcheck, and the same errors as the fused op",
          "[autograd][spline]") {
  Rng rng(67);
  for (bool inverse : {false, true}) {
    const Options o = make_options(4, 2.0, inverse);
    const Shape xs{3, 2};
    const Tensor64 params = random_params(xs, 4, 0.7, rng);
    Tensor64 x(xs);
    for (auto& v : x) v = rng.uniform(-2.5, 2.5);
    require_gradcheck(
        [&](const std::vector<Var64>& v) {
          const auto out = rational_quadratic_spline_reference(v[0], v[1], o);
          return out.value * 0.7 + out.log_derivative * 1.3;
        },
        {x, params});
  }
  CHECK_THROWS_WITH(rational_quadratic_spline_reference(Var64(Tensor64({2, 3})),
                                                        Var64(Tensor64({2, 20})), make_options(8, 3.0)),
                    Catch::Contains("params must be (2, 69)"));
  CHECK_THROWS_WITH(rational_quadratic_spline_reference(Var64(Tensor64({2, 3})),
                                                        Var64(Tensor64({2, 69})), make_options(1, 3.0)),
                    Catch::Contains("at least 2 bins"));
}

TEST_CASE("rational_quadratic_spline: the same bits on 1 and 2 threads, and nothing recorded "
          "without gradients", "[autograd][spline]") {
  Rng rng(71);
  const std::size_t K = 8;
  const Shape xs{40, 2, 50};  // 4000 elements: split into several thread chunks
  const Tensor32 params = random_params(xs, K, 1.0, rng).cast<float>();
  Tensor32 x(xs);
  for (auto& v : x) v = float(rng.uniform(-3.5, 3.5));
  for (bool inverse : {false, true}) {
    const Options o = make_options(K, 3.0, inverse);
    std::vector<Tensor32> results[2];
    for (int threads : {1, 2}) {
      testing::ThreadCount count(threads);
      Var32 xv(x, true), pv(params, true);
      const auto out = rational_quadratic_spline(xv, pv, o);
      sum(out.value + out.log_derivative * 0.5f).backward();
      results[threads - 1] = {out.value.value(), out.log_derivative.value(), xv.grad(), pv.grad()};
    }
    for (std::size_t r = 0; r < 4; ++r) {
      INFO("result " << r << (inverse ? " inverse" : " forward"));
      REQUIRE(results[0][r].numel() == results[1][r].numel());
      CHECK(std::equal(results[0][r].begin(), results[0][r].end(), results[1][r].begin()));
    }
    NoGradGuard no_grad;
    const std::size_t tape_before = Tape<float>::current().size();
    const auto plain = rational_quadratic_spline(Var32(x, true), Var32(params, true), o);
    CHECK(Tape<float>::current().size() == tape_before);
    CHECK(std::equal(plain.value.value().begin(), plain.value.value().end(),
                     results[0][0].begin()));
  }
}
