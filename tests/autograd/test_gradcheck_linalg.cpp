// tests/autograd/test_gradcheck_linalg.cpp — logabsdet, inverse and lu_compose: full-Jacobian
// gradchecks in float64, plus the identities Glow relies on (lu_compose of lu_decompose's
// factors is the matrix again; log|det| of an LU-composed weight is sum(log_s)).
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "autograd/ops_linalg.hpp"
#include "tensor/linalg.hpp"
#include "tensor/random.hpp"

using namespace fz;

namespace {

// Random (n, n) with the diagonal pushed away from the Gaussian eigenvalue disk: well
// conditioned, so central differences are accurate. `flip` negates the first row (det < 0).
Tensor64 well_conditioned(std::size_t n, Rng& rng, bool flip = false) {
  Tensor64 A = rng.normal<double>({n, n});
  for (std::size_t i = 0; i < n; ++i) A[i * n + i] += 3 * std::sqrt(double(n)) + 1;
  if (flip)
    for (std::size_t j = 0; j < n; ++j) A[j] = -A[j];
  return A;
}

// The constant pieces of an LU-parameterised weight: a random permutation and signs.
struct LUConstants {
  Tensor64 P, sign_s;
};

LUConstants random_lu_constants(std::size_t n, Rng& rng) {
  LUConstants c{permutation_matrix<double>(rng.permutation(n)), Tensor64({n})};
  for (std::size_t i = 0; i < n; ++i) c.sign_s[i] = rng.bernoulli(0.5) ? 1.0 : -1.0;
  return c;
}

double max_abs_diff(const Tensor64& a, const Tensor64& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("linalg ops: gradcheck logabsdet on 3x3..5x5, either sign of det", "[linalg]") {
  Rng rng(20);
  for (std::size_t n : {3u, 4u, 5u})
    for (bool flip : {false, true}) {
      const Tensor64 W = well_conditioned(n, rng, flip);
      REQUIRE(slogdet(W).sign == (flip ? -1.0 : 1.0));
      const GradcheckResult r =
          gradcheck([](const std::vector<Var64>& v) { return logabsdet(v[0]); }, {W});
      INFO(r.message);
      REQUIRE(r.ok);
      REQUIRE(r.entries_checked == n * n);
    }
}

TEST_CASE("linalg ops: logabsdet value and its gradient W^-T", "[linalg]") {
  // det [[4, 7], [2, 6]] = 10, inverse [[0.6, -0.7], [-0.2, 0.4]], so the gradient is its
  // transpose [[0.6, -0.2], [-0.7, 0.4]].
  Var64 W(Tensor64({2, 2}, {4, 7, 2, 6}), true);
  Var64 y = logabsdet(W);
  REQUIRE(y.shape() == Shape{});
  REQUIRE(y.value().item() == Approx(std::log(10.0)));
  y.backward();
  REQUIRE(W.grad()[0] == Approx(0.6));
  REQUIRE(W.grad()[1] == Approx(-0.2));
  REQUIRE(W.grad()[2] == Approx(-0.7));
  REQUIRE(W.grad()[3] == Approx(0.4));

  // float works too, and a singular matrix is a clear error.
  Var32 Wf(Tensor32({2, 2}, {4, 7, 2, 6}), true);
  REQUIRE(logabsdet(Wf).value().item() == Approx(std::log(10.0)).epsilon(1e-6));
  Var64 S(Tensor64({2, 2}, {1, 2, 2, 4}), true);
  REQUIRE_THROWS_WITH(logabsdet(S), Catch::Contains("singular"));
  REQUIRE_THROWS_WITH(logabsdet(Var64(Tensor64({2, 3}), true)), Catch::Contains("(2, 3)"));
}

TEST_CASE("linalg ops: gradcheck inverse on 3x3..5x5; inverse(W) W = I", "[linalg]") {
  Rng rng(21);
  for (std::size_t n : {3u, 4u, 5u}) {
    const Tensor64 W = well_conditioned(n, rng, n == 4);
    const GradcheckResult r =
        gradcheck([](const std::vector<Var64>& v) { return inverse(v[0]); }, {W});
    INFO(r.message);
    REQUIRE(r.ok);
    REQUIRE(r.entries_checked == n * n * n * n);
    Tensor64 I({n, n});
    for (std::size_t i = 0; i < n; ++i) I[i * n + i] = 1;
    REQUIRE(max_abs_diff(small_matmul(inverse(Var64(W)).value(), W), I) < 1e-12);
  }
  // Composed with another op: d/dW log|det W^-1| = -W^-T.
  const Tensor64 W = well_conditioned(3, rng);
  const GradcheckResult r =
      gradcheck([](const std::vector<Var64>& v) { return logabsdet(inverse(v[0])); }, {W});
  INFO(r.message);
  REQUIRE(r.ok);
}

TEST_CASE("linalg ops: gradcheck lu_compose in L_param, U_param and log_s", "[linalg]") {
  Rng rng(22);
  for (std::size_t n : {3u, 4u, 5u}) {
    const LUConstants c = random_lu_constants(n, rng);
    // Full random matrices: entries outside the used triangles must get exactly zero gradient,
    // which the numeric Jacobian also sees (they do not affect W).
    const Tensor64 L = rng.normal<double>({n, n});
    const Tensor64 U = rng.normal<double>({n, n});
    const Tensor64 log_s = rng.normal<double>({n}, 0.0, 0.3);
    const GradcheckResult r = gradcheck(
        [&c](const std::vector<Var64>& v) { return lu_compose(c.P, v[0], v[1], c.sign_s, v[2]); },
        {L, U, log_s});
    INFO(r.message);
    REQUIRE(r.ok);
    REQUIRE(r.entries_checked == n * n * (2 * n * n + n));
  }
}

TEST_CASE("linalg ops: lu_compose of lu_decompose's factors reproduces the matrix", "[linalg]") {
  Rng rng(23);
  for (std::size_t n : {1u, 3u, 6u, 16u}) {
    const Tensor64 A = rng.normal<double>({n, n});
    const LUDecomposition<double> lu = lu_decompose(A);
    Tensor64 sign_s({n}), log_s({n});
    for (std::size_t i = 0; i < n; ++i) {
      const double u = lu.U[i * n + i];
      sign_s[i] = u < 0 ? -1.0 : 1.0;
      log_s[i] = std::log(std::abs(u));
    }
    // lu_decompose gives P A = L U, so A = P^T L U: Glow's P is our Pt.
    const Var64 W = lu_compose(lu.Pt, Var64(lu.L), Var64(lu.U), sign_s, Var64(log_s));
    CHECK(max_abs_diff(W.value(), A) < 1e-12 * double(n));
  }
  // Shape errors name the offending shapes.
  REQUIRE_THROWS_WITH(lu_compose(Tensor64({3, 3}), Var64(Tensor64({3, 3})), Var64(Tensor64({3, 3})),
                                 Tensor64({2}), Var64(Tensor64({3}))),
                      Catch::Contains("sign_s (2,)"));
}

TEST_CASE("linalg ops: logabsdet(lu_compose(...)) == sum(log_s), with matching gradients",
          "[linalg]") {
  Rng rng(24);
  const std::size_t n = 5;
  const LUConstants c = random_lu_constants(n, rng);
  Var64 L(rng.normal<double>({n, n}), true);
  Var64 U(rng.normal<double>({n, n}), true);
  Var64 log_s(rng.normal<double>({n}, 0.0, 0.5), true);
  double sum_log_s = 0;
  for (std::size_t i = 0; i < n; ++i) sum_log_s += log_s.value()[i];

  Var64 W = lu_compose(c.P, L, U, c.sign_s, log_s);
  Var64 y = logabsdet(W);
  REQUIRE(y.value().item() == Approx(sum_log_s).epsilon(1e-12));
  // The sign of det W is det(P) * prod(sign_s).
  int expected_sign = slogdet(c.P).sign > 0 ? 1 : -1;
  for (std::size_t i = 0; i < n; ++i) expected_sign *= c.sign_s[i] > 0 ? 1 : -1;
  REQUIRE(slogdet(W.value()).sign == double(expected_sign));

  // Through the full chain: d/dlog_s = 1 and d/dL = d/dU = 0 (log|det| ignores L and U).
  y.backward();
  for (std::size_t i = 0; i < n; ++i) REQUIRE(log_s.grad()[i] == Approx(1.0).epsilon(1e-10));
  for (std::size_t i = 0; i < n * n; ++i) {
    REQUIRE(std::abs(L.grad()[i]) < 1e-10);
    REQUIRE(std::abs(U.grad()[i]) < 1e-10);
  }
}

TEST_CASE("linalg ops: only inputs that require grad get one; no-grad records nothing",
          "[linalg]") {
  Rng rng(25);
  const std::size_t n = 4;
  const LUConstants c = random_lu_constants(n, rng);
  Var64 L(rng.normal<double>({n, n}), false);
  Var64 U(rng.normal<double>({n, n}), false);
  Var64 log_s(rng.normal<double>({n}), true);
  Var64 W = lu_compose(c.P, L, U, c.sign_s, log_s);
  REQUIRE(W.requires_grad());
  logabsdet(W).backward();
  REQUIRE_FALSE(L.grad().defined());
  REQUIRE_FALSE(U.grad().defined());
  REQUIRE(log_s.grad().defined());

  {
    NoGradGuard no_grad;
    const std::size_t before = Tape<double>::current().size();
    Var64 X(well_conditioned(n, rng), true);
    Var64 z = logabsdet(inverse(lu_compose(c.P, X, X, c.sign_s, log_s)));
    REQUIRE(Tape<double>::current().size() == before);
    REQUIRE_FALSE(z.requires_grad());
  }
}
