// tensor/linalg.hpp — small dense linear algebra on square/rectangular 2-D tensors: LU with
// partial pivoting, slogdet, inverse, triangular and general solves, Householder QR and
// Haar-random orthogonal matrices.
//
// This is what invertible 1x1 convolutions need (Glow: slogdet of a c x c weight, its inverse
// for sampling, the LU parameterisation and its random-orthogonal initialisation). Matrices
// are small (c <= 512), so these are plain, clear loops — row-major, with the innermost loop
// running along contiguous rows so the compiler vectorises it — not blocked kernels. For large
// products use matmul/gemm.
//
// Singularity: a matrix is treated as (numerically) singular when some LU pivot satisfies
// |u_kk| <= n * eps(T) * max|A_ij| — the usual rank tolerance; such a matrix's determinant and
// inverse are dominated by rounding. slogdet, inverse and solve throw std::invalid_argument
// for it; lu_decompose itself never throws for it and reports `singular` instead.
#pragma once

#include <cstddef>
#include <vector>

#include "random.hpp"
#include "tensor.hpp"

namespace fz {

// P A = L U, with P a row permutation, L unit lower triangular and U upper triangular.
template <typename T>
struct LUDecomposition {
  // Row i of P A is row perm[i] of A.
  std::vector<std::size_t> perm;
  Tensor<T> P;   // (n, n) permutation matrix with P A = L U
  Tensor<T> Pt;  // P^T, so A = Pt L U — this is the "P" of Glow's LU 1x1 conv (W = P L U)
  Tensor<T> L;   // (n, n) unit lower triangular (ones on the diagonal)
  Tensor<T> U;   // (n, n) upper triangular
  int sign = 1;  // det(P) = (-1)^(number of row swaps)
  bool singular = false;  // some pivot fell below the tolerance described above
};

// LU decomposition with partial pivoting of a square matrix (shape (n, n)).
template <typename T>
LUDecomposition<T> lu_decompose(const Tensor<T>& A);

// Sign and natural log of |det A|: det A = sign * exp(logabsdet).
template <typename T>
struct SignLogDet {
  T sign;
  T logabsdet;
};

// Throws std::invalid_argument if A is singular (see the top of this file).
template <typename T>
SignLogDet<T> slogdet(const Tensor<T>& A);
// The same from an existing decomposition (saves re-factoring when the inverse is needed too).
template <typename T>
SignLogDet<T> slogdet(const LUDecomposition<T>& lu);

// A^-1 of a square matrix; throws std::invalid_argument if A is singular.
template <typename T>
Tensor<T> inverse(const Tensor<T>& A);
template <typename T>
Tensor<T> inverse(const LUDecomposition<T>& lu);

// Solves A X = B for a general square A; B is (n) or (n, k). Throws if A is singular.
template <typename T>
Tensor<T> solve(const Tensor<T>& A, const Tensor<T>& B);

// Which triangular system solve_triangular solves.
struct Triangle {
  bool lower = false;          // A is lower triangular (only that triangle is read), else upper
  bool unit_diagonal = false;  // take A's diagonal as ones without reading it
  bool transpose = false;      // solve A^T X = B instead of A X = B
};

// Solves op(A) X = B for triangular A as `triangle` describes (op(A) = A^T when
// triangle.transpose, else A). B is (n) or (n, k); the result has B's shape. Throws on a zero
// diagonal entry.
template <typename T>
Tensor<T> solve_triangular(const Tensor<T>& A, const Tensor<T>& B, const Triangle& triangle);

// Reduced Householder QR of an (m, n) matrix with m >= n: A = Q R, Q (m, n) with orthonormal
// columns, R (n, n) upper triangular.
template <typename T>
struct QRDecomposition {
  Tensor<T> Q;
  Tensor<T> R;
};
template <typename T>
QRDecomposition<T> qr(const Tensor<T>& A);

// A Haar-distributed random orthogonal (n, n) matrix: the Q of a Gaussian matrix's QR with
// column signs fixed so that diag(R) > 0 (without that fix Q is not uniformly distributed).
template <typename T>
Tensor<T> random_orthogonal(std::size_t n, Rng& rng);
// (rows, cols): orthonormal rows if rows <= cols, orthonormal columns otherwise (the
// "orthogonal" weight initialiser; same convention as torch.nn.init.orthogonal_).
template <typename T>
Tensor<T> random_orthogonal(std::size_t rows, std::size_t cols, Rng& rng);

// A B (or with either operand transposed) by plain loops, for the small matrices of this file
// and of the linalg ops. A is (m, k) (or (k, m) if transpose_a), B is (k, n) (or (n, k)).
template <typename T>
Tensor<T> small_matmul(const Tensor<T>& A, const Tensor<T>& B, bool transpose_a = false,
                       bool transpose_b = false);

// The (n, n) matrix of a permutation vector: row i has its one in column perm[i] (so
// (P A) row i = A row perm[i]); its transpose if `transpose`.
template <typename T>
Tensor<T> permutation_matrix(const std::vector<std::size_t>& perm, bool transpose = false);

}  // namespace fz
