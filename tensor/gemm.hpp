// tensor/gemm.hpp — GEMM: C = alpha * op(A) * op(B) + beta * C on row-major float/double
// buffers, written here on purpose (packed panels + an xsimd register-blocked micro-kernel,
// TBB over blocks of C). gemm_kernel.hpp says which file has what; gemm_blocked.cpp shows how
// the blocking maps onto the caches.
#pragma once

#include <cstddef>

namespace fz {

// Row-major GEMM, BLAS semantics:
//   C (M x N) = alpha * op(A) (M x K) * op(B) (K x N) + beta * C
// op(A) = A when !trans_a (A is M x K, row stride lda), A^T when trans_a (A is K x M).
// op(B) = B when !trans_b (B is K x N, row stride ldb), B^T when trans_b (B is N x K).
// beta == 0 overwrites C without reading it (NaN/garbage in C is ignored), as in BLAS.
// Transposed operands are handled while packing — no copies. Large products run on TBB
// (up to fz::num_threads() threads) unless `parallel` is false, which callers that already
// parallelise over independent products (e.g. conv2d over a batch) use; small products
// always run on the calling thread.
template <typename T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
          const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C,
          std::size_t ldc, bool parallel = true);

// The same product with op(B) given as line pointers instead of one strided matrix: when
// b_lines_are_columns is false, op(B)(k, j) = b_lines[k][j] (K row pointers); when true,
// op(B)(k, j) = b_lines[j][k] (N column pointers). Convolution uses it to read shifted rows of
// its padded input in place, with no im2col copy.
template <typename T>
void gemm_lines(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                std::size_t lda, const T* const* b_lines, bool b_lines_are_columns, T beta, T* C,
                std::size_t ldc, bool parallel = true);

// Textbook triple loop with the same semantics: the reference the tests compare against.
template <typename T>
void gemm_reference(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K,
                    T alpha, const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta,
                    T* C, std::size_t ldc);

}  // namespace fz
