// tensor/gemm_dots.hpp — C = A * B^T when both operands are long rows: every C(i, j) is a dot
// product of row i of A with line j of B over a long K (the pixel positions of a convolution's
// weight gradient).
//
// The packed GEMM needs both operands transposed into slivers for this shape, which is a
// scalar gather of the whole im2col matrix; here nothing is packed. A tile of C (8 x 3; 4 x 6
// or 2 x 8 when C has at most 4 or 2 rows) keeps 16-24 vector accumulators while its rows and
// lines stream through, so the FMA units stay busy even when C has only a few rows. K is
// processed in short chunks so the tile's rows of A stay in L1 (see gemm_dots.cpp). Each
// C(i, j) is summed in one fixed order: results do not depend on the thread count.
#pragma once

#include <cstddef>

namespace fz {

// C(i, j) = sum_k A[i * lda + k] * b_lines[j][k] for i < M, j < N, k < K (C overwritten).
template <typename T>
void gemm_dots(std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
               const T* const* b_lines, T* C, std::size_t ldc);

}  // namespace fz
