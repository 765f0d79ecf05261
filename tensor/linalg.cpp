// tensor/linalg.cpp — LU with partial pivoting, slogdet, inverse, solves, Householder QR and
// random orthogonal matrices, by plain row-major loops (see linalg.hpp for conventions).
#include "tensor/linalg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fz {

namespace {

template <typename T>
std::size_t check_square(const Tensor<T>& A, const char* op) {
  if (A.dim() != 2 || A.shape()[0] != A.shape()[1])
    throw std::invalid_argument(std::string(op) + ": expected a square matrix (n, n), got shape " +
                                shape_str(A.shape()));
  return A.shape()[0];
}

// Right-hand sides (n) or (n, k): returns k (1 for a vector) after checking the rows match.
template <typename T>
std::size_t check_rhs(const Tensor<T>& B, std::size_t n, const Shape& a_shape, const char* op) {
  if ((B.dim() != 1 && B.dim() != 2) || B.shape()[0] != n)
    throw std::invalid_argument(std::string(op) + ": right-hand side of shape " +
                                shape_str(B.shape()) + " does not match matrix of shape " +
                                shape_str(a_shape) + " (expected (" + std::to_string(n) +
                                ") or (" + std::to_string(n) + ", k))");
  return B.dim() == 1 ? 1 : B.shape()[1];
}

template <typename T>
Tensor<T> transposed(const Tensor<T>& A) {
  const std::size_t m = A.shape()[0], n = A.shape()[1];
  Tensor<T> out = Tensor<T>::empty({n, m});
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) out[j * m + i] = A[i * n + j];
  return out;
}

// row_dst -= c * row_src over k contiguous entries (the inner loop of every routine here).
template <typename T>
inline void axpy_row(T* dst, const T* src, T c, std::size_t k) {
  for (std::size_t j = 0; j < k; ++j) dst[j] -= c * src[j];
}

template <typename T>
[[noreturn]] void throw_singular(const char* op, const Tensor<T>& U) {
  const std::size_t n = U.shape()[0];
  T smallest = std::numeric_limits<T>::infinity();
  std::size_t at = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const T p = std::abs(U[k * n + k]);
    if (!(p >= smallest)) smallest = p, at = k;  // also picks up a NaN pivot
  }
  std::ostringstream msg;
  msg << op << ": matrix of shape " << shape_str(U.shape())
      << " is singular to working precision (LU pivot " << at << " is " << smallest << ")";
  throw std::invalid_argument(msg.str());
}

// Solves L U X = X_in in place, where X already holds P B: forward substitution with the unit
// lower L, then back substitution with U. X is (n, k) row-major.
template <typename T>
void lu_substitute(const LUDecomposition<T>& lu, T* X, std::size_t k) {
  const std::size_t n = lu.perm.size();
  const T* L = lu.L.data();
  const T* U = lu.U.data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (L[i * n + j] != T(0)) axpy_row(X + i * k, X + j * k, L[i * n + j], k);
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = i + 1; j < n; ++j)
      if (U[i * n + j] != T(0)) axpy_row(X + i * k, X + j * k, U[i * n + j], k);
    const T inv = T(1) / U[i * n + i];
    for (std::size_t c = 0; c < k; ++c) X[i * k + c] *= inv;
  }
}

}  // namespace

template <typename T>
LUDecomposition<T> lu_decompose(const Tensor<T>& A) {
  const std::size_t n = check_square(A, "lu_decompose");
  Tensor<T> a = A.clone();  // overwritten by L (strictly below the diagonal) and U
  T* m = a.data();
  LUDecomposition<T> lu;
  lu.perm.resize(n);
  for (std::size_t i = 0; i < n; ++i) lu.perm[i] = i;

  T max_abs = 0;
  for (std::size_t i = 0; i < n * n; ++i) max_abs = std::max(max_abs, std::abs(m[i]));
  const T tol = static_cast<T>(n) * std::numeric_limits<T>::epsilon() * max_abs;

  for (std::size_t k = 0; k < n; ++k) {
    // Partial pivoting: bring the largest |entry| of column k (rows k..n-1) to the diagonal,
    // which keeps every multiplier |l_ik| <= 1.
    std::size_t p = k;
    for (std::size_t i = k + 1; i < n; ++i)
      if (std::abs(m[i * n + k]) > std::abs(m[p * n + k])) p = i;
    if (p != k) {
      std::swap_ranges(m + k * n, m + (k + 1) * n, m + p * n);
      std::swap(lu.perm[k], lu.perm[p]);
      lu.sign = -lu.sign;
    }
    const T pivot = m[k * n + k];
    if (!(std::abs(pivot) > tol)) lu.singular = true;  // NaN pivots count as singular too
    if (pivot == T(0)) continue;  // the rest of the column is zero too: nothing to eliminate
    for (std::size_t i = k + 1; i < n; ++i) {
      const T l = m[i * n + k] / pivot;
      m[i * n + k] = l;
      if (l != T(0)) axpy_row(m + i * n + k + 1, m + k * n + k + 1, l, n - k - 1);
    }
  }

  lu.L = Tensor<T>({n, n});
  lu.U = Tensor<T>({n, n});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j) lu.L[i * n + j] = m[i * n + j];
    lu.L[i * n + i] = T(1);
    for (std::size_t j = i; j < n; ++j) lu.U[i * n + j] = m[i * n + j];
  }
  lu.P = permutation_matrix<T>(lu.perm, false);
  lu.Pt = permutation_matrix<T>(lu.perm, true);
  return lu;
}

template <typename T>
SignLogDet<T> slogdet(const LUDecomposition<T>& lu) {
  if (lu.singular) throw_singular("slogdet", lu.U);
  const std::size_t n = lu.perm.size();
  // det A = det(P)^-1 det(L) det(U) = sign * prod u_kk; summing logs cannot overflow.
  T sign = static_cast<T>(lu.sign);
  T logabs = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const T u = lu.U[k * n + k];
    if (u < T(0)) sign = -sign;
    logabs += std::log(std::abs(u));
  }
  return {sign, logabs};
}

template <typename T>
SignLogDet<T> slogdet(const Tensor<T>& A) {
  check_square(A, "slogdet");
  return slogdet(lu_decompose(A));
}

template <typename T>
Tensor<T> inverse(const LUDecomposition<T>& lu) {
  if (lu.singular) throw_singular("inverse", lu.U);
  // A^-1 = U^-1 L^-1 P: solve L U X = P.
  Tensor<T> X = lu.P.clone();
  lu_substitute(lu, X.data(), lu.perm.size());
  return X;
}

template <typename T>
Tensor<T> inverse(const Tensor<T>& A) {
  check_square(A, "inverse");
  return inverse(lu_decompose(A));
}

template <typename T>
Tensor<T> solve(const Tensor<T>& A, const Tensor<T>& B) {
  const std::size_t n = check_square(A, "solve");
  const std::size_t k = check_rhs(B, n, A.shape(), "solve");
  const LUDecomposition<T> lu = lu_decompose(A);
  if (lu.singular) throw_singular("solve", lu.U);
  Tensor<T> X = Tensor<T>::empty(B.shape());
  for (std::size_t i = 0; i < n; ++i)
    std::copy(B.data() + lu.perm[i] * k, B.data() + (lu.perm[i] + 1) * k, X.data() + i * k);
  lu_substitute(lu, X.data(), k);
  return X;
}

template <typename T>
Tensor<T> solve_triangular(const Tensor<T>& A, const Tensor<T>& B, const Triangle& triangle) {
  const bool lower = triangle.lower, unit_diagonal = triangle.unit_diagonal,
             transpose = triangle.transpose;
  const std::size_t n = check_square(A, "solve_triangular");
  const std::size_t k = check_rhs(B, n, A.shape(), "solve_triangular");
  const T* a = A.data();
  // Entry (i, j) of op(A); the transpose of a lower triangle is an upper one.
  auto op = [a, n, transpose](std::size_t i, std::size_t j) {
    return transpose ? a[j * n + i] : a[i * n + j];
  };
  const bool op_lower = lower != transpose;
  Tensor<T> X = B.clone();
  T* x = X.data();
  auto finish_row = [&](std::size_t i) {
    if (unit_diagonal) return;
    const T d = op(i, i);
    if (d == T(0))
      throw std::invalid_argument("solve_triangular: zero on the diagonal at (" +
                                  std::to_string(i) + ", " + std::to_string(i) +
                                  ") of the matrix of shape " + shape_str(A.shape()));
    const T inv = T(1) / d;
    for (std::size_t c = 0; c < k; ++c) x[i * k + c] *= inv;
  };
  if (op_lower) {  // forward substitution: row i depends on rows above it
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < i; ++j)
        if (op(i, j) != T(0)) axpy_row(x + i * k, x + j * k, op(i, j), k);
      finish_row(i);
    }
  } else {  // back substitution: row i depends on rows below it
    for (std::size_t i = n; i-- > 0;) {
      for (std::size_t j = i + 1; j < n; ++j)
        if (op(i, j) != T(0)) axpy_row(x + i * k, x + j * k, op(i, j), k);
      finish_row(i);
    }
  }
  return X;
}

template <typename T>
QRDecomposition<T> qr(const Tensor<T>& A) {
  if (A.dim() != 2 || A.shape()[0] < A.shape()[1])
    throw std::invalid_argument("qr: expected an (m, n) matrix with m >= n, got shape " +
                                shape_str(A.shape()));
  const std::size_t m = A.shape()[0], n = A.shape()[1];
  Tensor<T> R = A.clone();
  T* r = R.data();
  // Householder reflector k is H_k = I - 2 v v^T with v (unit, length m - k) stored in vs[k];
  // H_k zeroes column k below the diagonal.
  std::vector<std::vector<T>> vs(n);
  std::vector<T> w(n);
  for (std::size_t k = 0; k < n; ++k) {
    T norm2 = 0;
    for (std::size_t i = k; i < m; ++i) norm2 += r[i * n + k] * r[i * n + k];
    const T norm = std::sqrt(norm2);
    if (norm == T(0)) continue;  // column already zero: H_k = I
    const T x0 = r[k * n + k];
    // alpha = -sign(x0) |x| so that v0 = x0 - alpha never cancels.
    const T alpha = x0 >= T(0) ? -norm : norm;
    std::vector<T>& v = vs[k];
    v.resize(m - k);
    for (std::size_t i = k; i < m; ++i) v[i - k] = r[i * n + k];
    v[0] -= alpha;
    T vnorm2 = 0;
    for (const T vi : v) vnorm2 += vi * vi;
    const T inv_vnorm = T(1) / std::sqrt(vnorm2);
    for (T& vi : v) vi *= inv_vnorm;
    // R[k:, k:] -= 2 v (v^T R[k:, k:]), row by row so the inner loops are contiguous.
    std::fill(w.begin(), w.end(), T(0));
    for (std::size_t i = k; i < m; ++i)
      for (std::size_t j = k; j < n; ++j) w[j] += v[i - k] * r[i * n + j];
    for (std::size_t i = k; i < m; ++i) axpy_row(r + i * n + k, w.data() + k, 2 * v[i - k], n - k);
  }
  QRDecomposition<T> out;
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity, innermost first.
  out.Q = Tensor<T>({m, n});
  T* q = out.Q.data();
  for (std::size_t i = 0; i < n; ++i) q[i * n + i] = T(1);
  for (std::size_t k = n; k-- > 0;) {
    const std::vector<T>& v = vs[k];
    if (v.empty()) continue;
    std::fill(w.begin(), w.end(), T(0));
    for (std::size_t i = k; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) w[j] += v[i - k] * q[i * n + j];
    for (std::size_t i = k; i < m; ++i) axpy_row(q + i * n, w.data(), 2 * v[i - k], n);
  }
  out.R = Tensor<T>({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i; j < n; ++j) out.R[i * n + j] = r[i * n + j];
  return out;
}

template <typename T>
Tensor<T> random_orthogonal(std::size_t rows, std::size_t cols, Rng& rng) {
  const bool wide = rows < cols;
  const std::size_t m = wide ? cols : rows, n = wide ? rows : cols;
  QRDecomposition<T> f = qr(rng.normal<T>({m, n}));
  // Multiply column j of Q by sign(R_jj): makes the decomposition unique, hence Q Haar-uniform.
  for (std::size_t j = 0; j < n; ++j)
    if (f.R[j * n + j] < T(0))
      for (std::size_t i = 0; i < m; ++i) f.Q[i * n + j] = -f.Q[i * n + j];
  return wide ? transposed(f.Q) : f.Q;
}

template <typename T>
Tensor<T> random_orthogonal(std::size_t n, Rng& rng) {
  return random_orthogonal<T>(n, n, rng);
}

template <typename T>
Tensor<T> small_matmul(const Tensor<T>& A, const Tensor<T>& B, bool transpose_a, bool transpose_b) {
  if (A.dim() != 2 || B.dim() != 2)
    throw std::invalid_argument("small_matmul: expected two matrices, got shapes " +
                                shape_str(A.shape()) + " and " + shape_str(B.shape()));
  // Transposed operands are materialised (O(n^2)) so the O(n^3) loop below stays contiguous.
  const Tensor<T> a = transpose_a ? transposed(A) : A;
  const Tensor<T> b = transpose_b ? transposed(B) : B;
  const std::size_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  if (b.shape()[0] != k)
    throw std::invalid_argument("small_matmul: inner dimensions differ: " + shape_str(A.shape()) +
                                (transpose_a ? "^T" : "") + " times " + shape_str(B.shape()) +
                                (transpose_b ? "^T" : ""));
  Tensor<T> C({m, n});
  T* c = C.data();
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t p = 0; p < k; ++p) {
      const T aip = a[i * k + p];
      if (aip != T(0)) axpy_row(c + i * n, b.data() + p * n, -aip, n);  // c_i += a_ip b_p
    }
  return C;
}

template <typename T>
Tensor<T> permutation_matrix(const std::vector<std::size_t>& perm, bool transpose) {
  const std::size_t n = perm.size();
  std::vector<bool> seen(n, false);
  for (const std::size_t p : perm) {
    if (p >= n || seen[p])
      throw std::invalid_argument("permutation_matrix: not a permutation of 0.." +
                                  std::to_string(n == 0 ? 0 : n - 1) + " (entry " +
                                  std::to_string(p) + ")");
    seen[p] = true;
  }
  Tensor<T> P({n, n});
  for (std::size_t i = 0; i < n; ++i) {
    if (transpose)
      P[perm[i] * n + i] = T(1);
    else
      P[i * n + perm[i]] = T(1);
  }
  return P;
}

#define FZ_INSTANTIATE_LINALG(T)                                                                 \
  template LUDecomposition<T> lu_decompose(const Tensor<T>&);                                    \
  template SignLogDet<T> slogdet(const Tensor<T>&);                                              \
  template SignLogDet<T> slogdet(const LUDecomposition<T>&);                                     \
  template Tensor<T> inverse(const Tensor<T>&);                                                  \
  template Tensor<T> inverse(const LUDecomposition<T>&);                                         \
  template Tensor<T> solve(const Tensor<T>&, const Tensor<T>&);                                  \
  template Tensor<T> solve_triangular(const Tensor<T>&, const Tensor<T>&, const Triangle&);      \
  template QRDecomposition<T> qr(const Tensor<T>&);                                              \
  template Tensor<T> random_orthogonal<T>(std::size_t, Rng&);                                    \
  template Tensor<T> random_orthogonal<T>(std::size_t, std::size_t, Rng&);                       \
  template Tensor<T> small_matmul(const Tensor<T>&, const Tensor<T>&, bool, bool);               \
  template Tensor<T> permutation_matrix<T>(const std::vector<std::size_t>&, bool);

FZ_INSTANTIATE_LINALG(float)
FZ_INSTANTIATE_LINALG(double)
#undef FZ_INSTANTIATE_LINALG

}  // namespace fz
