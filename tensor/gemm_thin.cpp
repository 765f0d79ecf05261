// tensor/gemm_thin.cpp — gemm_thin: products with a dimension of at most four (the 2-D toy
// flows' 1 -> 64 and 64 -> 2 layers, their gradients) as vector loops over the long dimension,
// operands read in place where their layout allows. gemm.cpp tries it before the packed paths.
#include <algorithm>
#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "tensor/gemm_kernel.hpp"
#include "tensor/gemm_strategies.hpp"

namespace fz::gemm_detail {

namespace {

// Products with a dimension of a few elements (the 2-D toy flows: 1 -> 64 and 64 -> 2 layers)
// waste most of a packed 12 x 32 tile; they run as vector loops over the long dimension
// instead, reading the operands in place where their layout allows. Returns false when the
// shape is not thin.
constexpr std::size_t kThin = 4;

// C(i, j) = alpha * dot(A row i, cols[j]) + beta * C(i, j) for N (<= kThin) columns: one pass
// over each row of A with the N partial-sum vectors in registers, then one horizontal sum
// each. (xsimd 8.1's haddp, which would reduce 16 rows at once, permutes lanes on AVX-512.)
template <typename T, std::size_t N>
void thin_row_dots(std::size_t M, std::size_t K, T alpha, const T* A, std::size_t lda,
                   const T* const* cols, T beta, T* C, std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  const std::size_t kv = K / W * W;
  for (std::size_t i = 0; i < M; ++i) {
    const T* a = A + i * lda;
    V acc[N];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) acc[j] = V(T(0));
    for (std::size_t k = 0; k < kv; k += W) {
      const V av = V::load_unaligned(a + k);
#pragma GCC unroll 4
      for (std::size_t j = 0; j < N; ++j)
        acc[j] = xsimd::fma(av, V::load_unaligned(cols[j] + k), acc[j]);
    }
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) {
      T sum = xsimd::hadd(acc[j]);
      for (std::size_t k = kv; k < K; ++k) sum += a[k] * cols[j][k];
      T& c = C[i * ldc + j];
      c = beta == T(0) ? alpha * sum : alpha * sum + beta * c;
    }
  }
}

// C(i, :) = alpha * sum_k op(A)(i, k) B(k, :) + beta * C(i, :) for M (<= kThin) rows and a
// row-major B read in place: one pass over B's rows per block of 4W columns, the M x 4W block
// of C in registers; the last N % 4W columns go through plain loops.
template <typename T, std::size_t M>
void thin_row_combos(bool trans_a, std::size_t N, std::size_t K, T alpha, const T* A,
                     std::size_t lda, const T* b, std::size_t ldb, T beta, T* C,
                     std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  constexpr std::size_t NV = 4;
  const std::size_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
  const std::size_t blocked = N / (NV * W) * (NV * W);
  for (std::size_t j0 = 0; j0 < blocked; j0 += NV * W) {
    V acc[M][NV];
#pragma GCC unroll 4
    for (std::size_t i = 0; i < M; ++i)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[i][v] = V(T(0));
    const T* brow = b + j0;
    for (std::size_t k = 0; k < K; ++k, brow += ldb) {
      V bv[NV];
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) bv[v] = V::load_unaligned(brow + v * W);
#pragma GCC unroll 4
      for (std::size_t i = 0; i < M; ++i) {
        const V ai(A[i * a_rs + k * a_cs]);
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) acc[i][v] = xsimd::fma(ai, bv[v], acc[i][v]);
      }
    }
#pragma GCC unroll 4
    for (std::size_t i = 0; i < M; ++i)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) {
        T* c = C + i * ldc + j0 + v * W;
        const V r = V(alpha) * acc[i][v];
        (beta == T(0) ? r : xsimd::fma(V(beta), V::load_unaligned(c), r)).store_unaligned(c);
      }
  }
  if (blocked == N) return;
  for (std::size_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    for (std::size_t j = blocked; j < N; ++j) c[j] = beta == T(0) ? T(0) : beta * c[j];
    for (std::size_t k = 0; k < K; ++k) {
      const T aik = alpha * A[i * a_rs + k * a_cs];
      const T* brow = b + k * ldb;
      for (std::size_t j = blocked; j < N; ++j) c[j] += aik * brow[j];
    }
  }
}

// C(i, :) = beta C(i, :) + alpha sum_k op(A)(i, k) rows[k] for K (<= kThin) rows of length N.
template <typename T, std::size_t K>
void thin_col_combos(bool trans_a, std::size_t M, std::size_t N, T alpha, const T* A,
                     std::size_t lda, const T* const* rows, T beta, T* C, std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  const std::size_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
  for (std::size_t i = 0; i < M; ++i) {
    T coef[K];
#pragma GCC unroll 4
    for (std::size_t k = 0; k < K; ++k) coef[k] = alpha * A[i * a_rs + k * a_cs];
    T* c = C + i * ldc;
    std::size_t j = 0;
    if (beta == T(0)) {
      for (; j + W <= N; j += W) {
        V acc = V(coef[0]) * V::load_unaligned(rows[0] + j);
#pragma GCC unroll 4
        for (std::size_t k = 1; k < K; ++k)
          acc = xsimd::fma(V(coef[k]), V::load_unaligned(rows[k] + j), acc);
        acc.store_unaligned(c + j);
      }
    } else {
      const V vbeta(beta);
      for (; j + W <= N; j += W) {
        V acc = vbeta * V::load_unaligned(c + j);
#pragma GCC unroll 4
        for (std::size_t k = 0; k < K; ++k)
          acc = xsimd::fma(V(coef[k]), V::load_unaligned(rows[k] + j), acc);
        acc.store_unaligned(c + j);
      }
    }
    for (; j < N; ++j) {
      T acc = beta == T(0) ? T(0) : beta * c[j];
      for (std::size_t k = 0; k < K; ++k) acc += coef[k] * rows[k][j];
      c[j] = acc;
    }
  }
}

}  // namespace

template <typename T>
bool gemm_thin(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
               std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  if (K <= kThin && N >= W) {
    // C(i, :) = beta C(i, :) + alpha sum_k op(A)(i, k) op(B)(k, :), with op(B)'s K rows read in
    // place (row-major B) or made contiguous first.
    const T* rows[kThin];
    if (!B.trans) {
      for (std::size_t k = 0; k < K; ++k) rows[k] = B.line(k) + B.j_off;
    } else {
      T* buf = scratch<T>(0, K * N);
      for (std::size_t k = 0; k < K; ++k) {
        for (std::size_t j = 0; j < N; ++j) buf[k * N + j] = B.at(k, j);
        rows[k] = buf + k * N;
      }
    }
    switch (K) {
      case 1: thin_col_combos<T, 1>(trans_a, M, N, alpha, A, lda, rows, beta, C, ldc); break;
      case 2: thin_col_combos<T, 2>(trans_a, M, N, alpha, A, lda, rows, beta, C, ldc); break;
      case 3: thin_col_combos<T, 3>(trans_a, M, N, alpha, A, lda, rows, beta, C, ldc); break;
      default: thin_col_combos<T, 4>(trans_a, M, N, alpha, A, lda, rows, beta, C, ldc); break;
    }
    return true;
  }
  if (M <= kThin && N >= 4 * W && !B.trans && !B.lines) {
    // C(i, :) = beta C(i, :) + alpha sum_k op(A)(i, k) B(k, :): one pass over B's rows per
    // block of 4W columns, the M x 4W block of C kept in registers.
    const T* b = B.base + B.j_off;
    switch (M) {
      case 1: thin_row_combos<T, 1>(trans_a, N, K, alpha, A, lda, b, B.ld, beta, C, ldc); break;
      case 2: thin_row_combos<T, 2>(trans_a, N, K, alpha, A, lda, b, B.ld, beta, C, ldc); break;
      case 3: thin_row_combos<T, 3>(trans_a, N, K, alpha, A, lda, b, B.ld, beta, C, ldc); break;
      default: thin_row_combos<T, 4>(trans_a, N, K, alpha, A, lda, b, B.ld, beta, C, ldc); break;
    }
    return true;
  }
  if (N <= kThin && K >= W) {
    // C(:, j) = beta C(:, j) + alpha op(A) op(B)(:, j), with op(B)'s N columns read in place
    // (B^T: its rows) or made contiguous.
    const T* cols[kThin];
    if (B.trans) {
      for (std::size_t j = 0; j < N; ++j) cols[j] = B.line(B.j_off + j);
    } else {
      T* buf = scratch<T>(0, N * K);
      for (std::size_t j = 0; j < N; ++j) {
        for (std::size_t k = 0; k < K; ++k) buf[j * K + k] = B.at(k, j);
        cols[j] = buf + j * K;
      }
    }
    if (!trans_a) {
      switch (N) {
        case 1: thin_row_dots<T, 1>(M, K, alpha, A, lda, cols, beta, C, ldc); break;
        case 2: thin_row_dots<T, 2>(M, K, alpha, A, lda, cols, beta, C, ldc); break;
        case 3: thin_row_dots<T, 3>(M, K, alpha, A, lda, cols, beta, C, ldc); break;
        default: thin_row_dots<T, 4>(M, K, alpha, A, lda, cols, beta, C, ldc); break;
      }
    } else {  // op(A) = A^T: rows of A are contiguous over i, so accumulate axpy-style
      T* acc = scratch<T>(1, M);
      for (std::size_t j = 0; j < N; ++j) {
        std::fill(acc, acc + M, T(0));
        for (std::size_t k = 0; k < K; ++k) {
          const V b(cols[j][k]);
          const T* a = A + k * lda;
          std::size_t i = 0;
          for (; i + W <= M; i += W)
            xsimd::fma(V::load_unaligned(a + i), b, V::load_aligned(acc + i)).store_aligned(acc + i);
          for (; i < M; ++i) acc[i] += a[i] * cols[j][k];
        }
        for (std::size_t i = 0; i < M; ++i) {
          T& c = C[i * ldc + j];
          c = beta == T(0) ? alpha * acc[i] : alpha * acc[i] + beta * c;
        }
      }
    }
    return true;
  }
  return false;
}

template bool gemm_thin<float>(bool, std::size_t, std::size_t, std::size_t, float, const float*,
                               std::size_t, const BView<float>&, float, float*, std::size_t);
template bool gemm_thin<double>(bool, std::size_t, std::size_t, std::size_t, double,
                                const double*, std::size_t, const BView<double>&, double, double*,
                                std::size_t);

}  // namespace fz::gemm_detail
