// tensor/gemm_skinny.hpp — C = A * B for products with only a few rows of C (M <= 8) and a
// long N, with B given as row pointers: the convolutions with 2, 4 or 8 output channels (the
// zero-initialised last conv of every Glow/RealNVP coupling, and the input gradient of the
// first conv, whose transposed form has 2 or 4 output channels).
//
// The packed GEMM copies every row of B into slivers before multiplying; with M = 4 each copied
// value is then used only 4 times, so the copy costs as much as the arithmetic. Here B is read
// in place: a tile of ROWS x (NV vectors) accumulators walks down all K rows of B, loading NV
// vectors of each row once and using each ROWS times.
#pragma once

#include <cstddef>

namespace fz {

// The most rows of C the skinny kernel handles; larger M belongs to the packed GEMM.
constexpr std::size_t kSkinnyMaxRows = 8;

// C(i, j) = sum_k A[i * lda + k] * b_lines[k][j] for i < M <= kSkinnyMaxRows, j < N (C is
// overwritten). Each b_lines[k] must have N readable values. Runs on up to fz::num_threads()
// threads, split along N.
template <typename T>
void gemm_skinny_lines(std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
                       const T* const* b_lines, T* C, std::size_t ldc);

}  // namespace fz
