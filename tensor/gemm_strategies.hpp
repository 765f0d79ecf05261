// tensor/gemm_strategies.hpp — the ways gemm_view (gemm.cpp) can compute one product, each
// on the calling thread and with the same BLAS semantics as gemm (C = alpha op(A) op(B) +
// beta C, op(B) given as a BView). Internal to tensor/; see gemm_kernel.hpp for which file has
// what.
#pragma once

#include <cstddef>

#include "gemm_kernel.hpp"

namespace fz::gemm_detail {

// Cache-blocked packing GEMM on the rectangle C[0:M, 0:N] (gemm_blocked.cpp).
template <typename T>
void gemm_blocked(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha,
                  const T* A, std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc);

// Whether gemm_direct suits this product: operands that fit in L2 (gemm_blocked.cpp).
template <typename T>
bool direct_fits(bool trans_a, std::size_t M, std::size_t N, std::size_t K, std::size_t lda);

// The micro-kernel on A (and B where it can) in place, without cache blocking
// (gemm_blocked.cpp).
template <typename T>
void gemm_direct(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha,
                 const T* A, std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc);

// Plain loops for tiny products (gemm_blocked.cpp).
template <typename T>
void gemm_small(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc);

// Products with M, N or K of at most four as vector loops over the long dimension; false when
// the shape is not thin (gemm_thin.cpp).
template <typename T>
bool gemm_thin(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
               std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc);

}  // namespace fz::gemm_detail
