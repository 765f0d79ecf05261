// tests/tensor/test_linalg.cpp — LU with pivoting, slogdet, inverse, solves, QR and random
// orthogonal matrices, against hand values and identities (PA = LU, A^-1 A = I, Q^T Q = I).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tensor/linalg.hpp"
#include "tensor/random.hpp"

using namespace fz;

namespace {

template <typename T>
T max_abs_diff(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  T m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

template <typename T>
Tensor<T> identity(std::size_t n) {
  Tensor<T> I({n, n});
  for (std::size_t i = 0; i < n; ++i) I[i * n + i] = T(1);
  return I;
}

// A random matrix with a strong diagonal: well conditioned, so errors stay near eps.
template <typename T>
Tensor<T> well_conditioned(std::size_t n, Rng& rng) {
  Tensor<T> A = rng.normal<T>({n, n});
  // Gaussian eigenvalues fill a disk of radius ~sqrt(n); shift it well away from zero.
  for (std::size_t i = 0; i < n; ++i) A[i * n + i] += T(3 * std::sqrt(double(n)) + 2);
  return A;
}

template <typename T>
T tol() {
  return std::is_same<T, float>::value ? T(2e-4) : T(1e-11);
}

}  // namespace

TEMPLATE_TEST_CASE("linalg: lu_decompose reconstructs P A = L U with unit-lower L, upper U",
                   "[linalg]", float, double) {
  using T = TestType;
  Rng rng(10);
  for (std::size_t n : {1u, 2u, 5u, 17u, 64u}) {
    const Tensor<T> A = rng.normal<T>({n, n});
    const LUDecomposition<T> lu = lu_decompose(A);
    REQUIRE_FALSE(lu.singular);
    for (std::size_t i = 0; i < n; ++i) {
      REQUIRE(lu.L[i * n + i] == T(1));
      for (std::size_t j = i + 1; j < n; ++j) REQUIRE(lu.L[i * n + j] == T(0));
      for (std::size_t j = 0; j < i; ++j) {
        REQUIRE(lu.U[i * n + j] == T(0));
        REQUIRE(std::abs(lu.L[i * n + j]) <= T(1));  // partial pivoting bounds the multipliers
      }
    }
    const Tensor<T> PA = small_matmul(lu.P, A);
    const Tensor<T> LU = small_matmul(lu.L, lu.U);
    CHECK(max_abs_diff(PA, LU) < tol<T>() * T(n));
    // perm is P's row description, Pt = P^T, and A = Pt L U.
    for (std::size_t i = 0; i < n; ++i) REQUIRE(lu.P[i * n + lu.perm[i]] == T(1));
    CHECK(max_abs_diff(small_matmul(lu.Pt, LU), A) < tol<T>() * T(n));
    CHECK(max_abs_diff(lu.Pt, small_matmul(lu.P, identity<T>(n), true, false)) == T(0));
  }
}

TEMPLATE_TEST_CASE("linalg: lu_decompose pivots on the largest entry", "[linalg]", float, double) {
  using T = TestType;
  // Without pivoting, the zero in the top-left corner would stop elimination.
  const Tensor<T> A({3, 3}, {0, 2, 1, 4, 1, 0, 2, 3, 5});
  const LUDecomposition<T> lu = lu_decompose(A);
  // Column 0 pivots on the 4 (swap rows 0, 1); after eliminating, column 1 holds 2 and 2.5,
  // so rows 1 and 2 swap as well: two swaps, sign +1.
  REQUIRE(lu.perm == std::vector<std::size_t>{1, 2, 0});
  REQUIRE(lu.sign == 1);
  REQUIRE(lu.U[0] == T(4));
  REQUIRE(lu.U[4] == T(2.5));
  const SignLogDet<T> d = slogdet(lu);  // det = 0(5) - 2(20) + 1(12 - 2) = -30
  REQUIRE(d.sign == T(-1));
  REQUIRE(d.logabsdet == Approx(std::log(30.0)).epsilon(1e-6));
  CHECK(max_abs_diff(small_matmul(lu.P, A), small_matmul(lu.L, lu.U)) < tol<T>());
}

TEMPLATE_TEST_CASE("linalg: slogdet matches hand-computed determinants", "[linalg]", float,
                   double) {
  using T = TestType;
  // 2x2: det = 1*4 - 2*3 = -2.
  SignLogDet<T> d = slogdet(Tensor<T>({2, 2}, {1, 2, 3, 4}));
  REQUIRE(d.sign == T(-1));
  REQUIRE(d.logabsdet == Approx(std::log(2.0)).epsilon(1e-6));
  // 3x3: det = 2(3*2 - 1*1) - 0 + 1(1*1 - 3*0) = 10 + 1 = 11.
  d = slogdet(Tensor<T>({3, 3}, {2, 0, 1, 1, 3, 1, 0, 1, 2}));
  REQUIRE(d.sign == T(1));
  REQUIRE(d.logabsdet == Approx(std::log(11.0)).epsilon(1e-6));
  // Triangular: det = product of the diagonal (2 * -3 * 0.5 * 4 = -12).
  d = slogdet(Tensor<T>({4, 4}, {2, 7, -1, 3,  //
                                 0, -3, 5, 2,  //
                                 0, 0, 0.5, 9,  //
                                 0, 0, 0, 4}));
  REQUIRE(d.sign == T(-1));
  REQUIRE(d.logabsdet == Approx(std::log(12.0)).epsilon(1e-6));
  // Permutation matrices: det = the permutation's sign. (0 2 1 3) is one swap; (1 2 0 3) is a
  // 3-cycle (even); (1 0 3 2) is two swaps (even).
  REQUIRE(slogdet(permutation_matrix<T>({0, 2, 1, 3})).sign == T(-1));
  REQUIRE(slogdet(permutation_matrix<T>({1, 2, 0, 3})).sign == T(1));
  REQUIRE(slogdet(permutation_matrix<T>({1, 0, 3, 2})).sign == T(1));
  REQUIRE(slogdet(permutation_matrix<T>({1, 0, 3, 2})).logabsdet == T(0));
  // 1x1.
  d = slogdet(Tensor<T>({1, 1}, {-0.25}));
  REQUIRE(d.sign == T(-1));
  REQUIRE(d.logabsdet == Approx(std::log(0.25)));
}

TEMPLATE_TEST_CASE("linalg: slogdet of a product is the sum; large matrices do not overflow",
                   "[linalg]", float, double) {
  using T = TestType;
  Rng rng(11);
  const std::size_t n = 6;
  // A = Pm * Lo * Up with known factors: det = sign(Pm) * prod diag(Lo) * prod diag(Up).
  Tensor<T> Lo = rng.normal<T>({n, n}), Up = rng.normal<T>({n, n});
  double expected_log = 0;
  int expected_sign = -1;  // the permutation below is a single swap
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      if (j > i) Lo[i * n + j] = 0;
      if (j < i) Up[i * n + j] = 0;
    }
  for (std::size_t i = 0; i < n; ++i) {
    Lo[i * n + i] = T(0.5 + 0.3 * i);
    Up[i * n + i] = T(i % 2 ? -1.5 : 2.0);
    expected_log += std::log(0.5 + 0.3 * i) + std::log(i % 2 ? 1.5 : 2.0);
    if (i % 2) expected_sign = -expected_sign;
  }
  const Tensor<T> Pm = permutation_matrix<T>({0, 1, 2, 4, 3, 5});
  const Tensor<T> A = small_matmul(Pm, small_matmul(Lo, Up));
  const SignLogDet<T> d = slogdet(A);
  REQUIRE(d.sign == T(expected_sign));
  REQUIRE(d.logabsdet == Approx(expected_log).epsilon(1e-4));

  // 200 x 200 with diagonal 10: det ~ 10^200 overflows float, yet logabsdet is fine.
  const std::size_t m = 200;
  Tensor<T> B({m, m});
  for (std::size_t i = 0; i < m; ++i) {
    B[i * m + i] = T(10);
    if (i + 1 < m) B[i * m + i + 1] = T(3);  // upper bidiagonal: det still 10^200
  }
  const SignLogDet<T> db = slogdet(B);
  REQUIRE(db.sign == T(1));
  REQUIRE(db.logabsdet == Approx(200 * std::log(10.0)).epsilon(1e-5));
}

TEMPLATE_TEST_CASE("linalg: singular matrices are a clear error", "[linalg]", float, double) {
  using T = TestType;
  const Tensor<T> rank1({2, 2}, {1, 2, 2, 4});
  REQUIRE_THROWS_WITH(slogdet(rank1), Catch::Contains("slogdet") && Catch::Contains("singular") &&
                                          Catch::Contains("(2, 2)"));
  REQUIRE_THROWS_WITH(inverse(rank1), Catch::Contains("inverse") && Catch::Contains("singular"));
  // Rank 2 in exact arithmetic, but rounding leaves a ~1e-16 pivot: still caught.
  const Tensor<T> rank2({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  REQUIRE(lu_decompose(rank2).singular);
  REQUIRE_THROWS_AS(slogdet(rank2), std::invalid_argument);
  REQUIRE_THROWS_AS(solve(rank2, Tensor<T>({3}, {1, 2, 3})), std::invalid_argument);
  REQUIRE_THROWS_AS(slogdet(Tensor<T>({3, 3})), std::invalid_argument);  // zero matrix
  // Not square.
  REQUIRE_THROWS_WITH(slogdet(Tensor<T>({2, 3})), Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_AS(inverse(Tensor<T>({4})), std::invalid_argument);
  // A tiny but perfectly conditioned matrix is not singular: the tolerance is relative.
  const SignLogDet<T> d = slogdet(Tensor<T>({2, 2}, {T(1e-20), 0, 0, T(1e-20)}));
  REQUIRE(d.logabsdet == Approx(2 * std::log(1e-20)).epsilon(1e-5));
}

TEMPLATE_TEST_CASE("linalg: inverse(A) A = I and solve(A, B) A X = B", "[linalg]", float, double) {
  using T = TestType;
  Rng rng(12);
  for (std::size_t n : {1u, 3u, 8u, 33u}) {
    const Tensor<T> A = well_conditioned<T>(n, rng);
    const Tensor<T> Ainv = inverse(A);
    CHECK(max_abs_diff(small_matmul(Ainv, A), identity<T>(n)) < tol<T>() * T(n));
    CHECK(max_abs_diff(small_matmul(A, Ainv), identity<T>(n)) < tol<T>() * T(n));
    const Tensor<T> B = rng.normal<T>({n, 4});
    const Tensor<T> X = solve(A, B);
    CHECK(max_abs_diff(small_matmul(A, X), B) < tol<T>() * T(n));
    // Vector right-hand side keeps its shape.
    const Tensor<T> b = rng.normal<T>({n});
    const Tensor<T> x = solve(A, b);
    REQUIRE(x.shape() == Shape{n});
    CHECK(max_abs_diff(small_matmul(A, x.reshape({n, 1})), b.reshape({n, 1})) < tol<T>() * T(n));
  }
  // Hand value: [[4, 7], [2, 6]]^-1 = [[0.6, -0.7], [-0.2, 0.4]].
  const Tensor<T> inv = inverse(Tensor<T>({2, 2}, {4, 7, 2, 6}));
  CHECK(max_abs_diff(inv, Tensor<T>({2, 2}, {0.6, -0.7, -0.2, 0.4})) < tol<T>());
}

TEMPLATE_TEST_CASE("linalg: solve_triangular for lower/upper, unit diagonal and transpose",
                   "[linalg]", float, double) {
  using T = TestType;
  Rng rng(13);
  const std::size_t n = 7;
  Tensor<T> A = rng.normal<T>({n, n});
  for (std::size_t i = 0; i < n; ++i) A[i * n + i] = T(2 + 0.1 * i);
  // Only one triangle of A is read, so build the triangles it stands for explicitly.
  auto triangle = [&](bool lower, bool unit) {
    Tensor<T> M({n, n});
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (i == j)
          M[i * n + j] = unit ? T(1) : A[i * n + j];
        else if ((j < i) == lower)
          M[i * n + j] = A[i * n + j];
    return M;
  };
  const Tensor<T> B = rng.normal<T>({n, 3});
  for (bool lower : {true, false})
    for (bool unit : {false, true})
      for (bool trans : {false, true}) {
        const Tensor<T> X = solve_triangular(A, B, Triangle{lower, unit, trans});
        const Tensor<T> M = triangle(lower, unit);
        CHECK(max_abs_diff(small_matmul(M, X, trans, false), B) < tol<T>() * T(n));
      }
  // Hand value: [[2, 0], [1, 4]] x = [4, 6] gives x = [2, 1].
  Triangle lower_triangle;
  lower_triangle.lower = true;
  const Tensor<T> x =
      solve_triangular(Tensor<T>({2, 2}, {2, 99, 1, 4}), Tensor<T>({2}, {4, 6}), lower_triangle);
  REQUIRE(x[0] == Approx(2.0));
  REQUIRE(x[1] == Approx(1.0));
  REQUIRE_THROWS_WITH(
      solve_triangular(Tensor<T>({2, 2}, {0, 0, 1, 1}), Tensor<T>({2}), lower_triangle),
      Catch::Contains("zero on the diagonal"));
  REQUIRE_THROWS_WITH(solve_triangular(A, Tensor<T>({n + 1, 2}), lower_triangle),
                      Catch::Contains("does not match"));
}

TEMPLATE_TEST_CASE("linalg: qr gives orthonormal Q and upper R with A = Q R", "[linalg]", float,
                   double) {
  using T = TestType;
  Rng rng(14);
  for (const Shape& s : {Shape{5, 5}, Shape{9, 4}, Shape{1, 1}}) {
    const Tensor<T> A = rng.normal<T>(s);
    const QRDecomposition<T> f = qr(A);
    REQUIRE(f.Q.shape() == s);
    REQUIRE(f.R.shape() == (Shape{s[1], s[1]}));
    CHECK(max_abs_diff(small_matmul(f.Q, f.R), A) < tol<T>() * 10);
    CHECK(max_abs_diff(small_matmul(f.Q, f.Q, true, false), identity<T>(s[1])) < tol<T>() * 10);
    for (std::size_t i = 0; i < s[1]; ++i)
      for (std::size_t j = 0; j < i; ++j) REQUIRE(f.R[i * s[1] + j] == T(0));
  }
  REQUIRE_THROWS_AS(qr(Tensor<T>({2, 3})), std::invalid_argument);
}

TEMPLATE_TEST_CASE("linalg: random_orthogonal is orthogonal, seeded, and unbiased in sign",
                   "[linalg]", float, double) {
  using T = TestType;
  Rng rng(15);
  for (std::size_t n : {1u, 4u, 48u}) {
    const Tensor<T> Q = random_orthogonal<T>(n, rng);
    CHECK(max_abs_diff(small_matmul(Q, Q, true, false), identity<T>(n)) < tol<T>() * T(n));
    CHECK(max_abs_diff(small_matmul(Q, Q, false, true), identity<T>(n)) < tol<T>() * T(n));
    REQUIRE(std::abs(slogdet(Q).logabsdet) < tol<T>() * T(n));  // |det Q| = 1
  }
  // Same seed, same matrix.
  Rng a(3), b(3);
  REQUIRE(random_orthogonal<T>(6, a).to_vector() == random_orthogonal<T>(6, b).to_vector());
  // Rectangular: orthonormal rows when wide, orthonormal columns when tall.
  const Tensor<T> wide = random_orthogonal<T>(3, 7, rng);
  REQUIRE(wide.shape() == (Shape{3, 7}));
  CHECK(max_abs_diff(small_matmul(wide, wide, false, true), identity<T>(3)) < tol<T>() * 10);
  const Tensor<T> tall = random_orthogonal<T>(7, 3, rng);
  REQUIRE(tall.shape() == (Shape{7, 3}));
  CHECK(max_abs_diff(small_matmul(tall, tall, true, false), identity<T>(3)) < tol<T>() * 10);
  // Haar: each entry of a random 2x2 orthogonal matrix has mean 0 (without the sign fix of
  // diag(R), Q's diagonal would be biased); and det = +-1 equally often.
  double sum00 = 0;
  int positive_det = 0;
  const int trials = 4000;
  for (int i = 0; i < trials; ++i) {
    const Tensor<T> Q = random_orthogonal<T>(2, rng);
    sum00 += Q[0];
    positive_det += Q[0] * Q[3] - Q[1] * Q[2] > 0;
  }
  // Q00 = cos(theta), theta uniform: sd 1/sqrt(2) per draw.
  CHECK(std::abs(sum00 / trials) < 5 * std::sqrt(0.5 / trials));
  CHECK(std::abs(positive_det - trials / 2) < 5 * std::sqrt(trials * 0.25));
}

TEMPLATE_TEST_CASE("linalg: small_matmul and permutation_matrix", "[linalg]", float, double) {
  using T = TestType;
  const Tensor<T> A({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor<T> B({3, 2}, {7, 8, 9, 10, 11, 12});
  const Tensor<T> C = small_matmul(A, B);
  REQUIRE(C.to_vector() == std::vector<T>{58, 64, 139, 154});
  // A^T A^T... (B^T A^T) = (A B)^T.
  REQUIRE(small_matmul(B, A, true, true).to_vector() == std::vector<T>{58, 139, 64, 154});
  REQUIRE_THROWS_WITH(small_matmul(A, A), Catch::Contains("inner dimensions"));
  // P A takes row perm[i] of A into row i.
  const Tensor<T> P = permutation_matrix<T>({2, 0, 1});
  const Tensor<T> M({3, 1}, {10, 20, 30});
  REQUIRE(small_matmul(P, M).to_vector() == std::vector<T>{30, 10, 20});
  REQUIRE(small_matmul(permutation_matrix<T>({2, 0, 1}, true), small_matmul(P, M)).to_vector() ==
          std::vector<T>{10, 20, 30});
  REQUIRE_THROWS_AS(permutation_matrix<T>({0, 0, 1}), std::invalid_argument);
}
