// tensor/gemm_skinny.cpp — the few-rows GEMM that reads B in place (see gemm_skinny.hpp).
#include "tensor/gemm_skinny.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <xsimd/xsimd.hpp>

#include "tensor/parallel.hpp"
#include "tensor/scratch.hpp"

namespace fz {

namespace {

#if defined(__AVX512F__)
constexpr std::size_t kVectorRegisters = 32;
#else
constexpr std::size_t kVectorRegisters = 16;
#endif

// Vectors of B per tile row: as many as fit next to ROWS x NV accumulators, the NV loaded
// B vectors and one broadcast of A (capped at 8: wider tiles only lengthen the edge).
template <std::size_t ROWS>
constexpr std::size_t vectors_per_row() {
  return std::min<std::size_t>(8, (kVectorRegisters - 1) / (ROWS + 1));
}

// C[0:ROWS, j0 : j0 + NV*W] for one column block. `a` is A transposed and padded to ROWS
// columns (a[k * ROWS + i] = A(i, k), zero for i >= M), so one k reads ROWS adjacent values.
// Only the first `rows` rows of the tile are stored.
template <typename T, std::size_t ROWS, std::size_t NV>
void skinny_block(std::size_t K, const T* __restrict a, const T* const* lines, std::size_t j0,
                  std::size_t rows, T* C, std::size_t ldc) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  B acc[ROWS][NV];
#pragma GCC unroll 8
  for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NV; ++v) acc[i][v] = B(T(0));
  for (std::size_t k = 0; k < K; ++k) {
    const T* b = lines[k] + j0;
    B bv[NV];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NV; ++v) bv[v] = B::load_unaligned(b + v * W);
#pragma GCC unroll 8
    for (std::size_t i = 0; i < ROWS; ++i) {
      const B ai(a[k * ROWS + i]);
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) acc[i][v] = xsimd::fma(ai, bv[v], acc[i][v]);
    }
  }
  for (std::size_t i = 0; i < rows; ++i)
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NV; ++v) acc[i][v].store_unaligned(C + i * ldc + j0 + v * W);
}

// The last N % W columns, one at a time.
template <typename T, std::size_t ROWS>
void skinny_columns(std::size_t K, const T* a, const T* const* lines, std::size_t j0,
                    std::size_t j1, std::size_t rows, T* C, std::size_t ldc) {
  for (std::size_t j = j0; j < j1; ++j) {
    T acc[ROWS] = {};
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t i = 0; i < ROWS; ++i) acc[i] += a[k * ROWS + i] * lines[k][j];
    for (std::size_t i = 0; i < rows; ++i) C[i * ldc + j] = acc[i];
  }
}

template <typename T, std::size_t ROWS>
void skinny(std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
            const T* const* lines, T* C, std::size_t ldc) {
  constexpr std::size_t W = xsimd::batch<T>::size;
  constexpr std::size_t NV = vectors_per_row<ROWS>();
  constexpr std::size_t BLOCK = NV * W;
  // A^T padded to ROWS columns: small (K x ROWS), rebuilt per call.
  struct SkinnyA {};
  T* a = detail::thread_scratch<SkinnyA, T>(0, K * ROWS);
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t i = 0; i < ROWS; ++i) a[k * ROWS + i] = i < M ? A[i * lda + k] : T(0);
  const T* at = a;

  const std::size_t blocks = N / BLOCK;
  // One contiguous run of column blocks per thread: neighbouring blocks share the rows of B
  // that a convolution's overlapping taps read, so they stay in cache.
  const std::size_t threads = static_cast<std::size_t>(std::max(1, num_threads()));
  const std::size_t work = M * N * K;
  const std::size_t grain = work < (std::size_t(1) << 20)
                                ? blocks + 1  // small: one thread
                                : std::max<std::size_t>(1, (blocks + threads - 1) / threads);
  parallel_for(blocks, grain, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t blk = b0; blk < b1; ++blk)
      skinny_block<T, ROWS, NV>(K, at, lines, blk * BLOCK, M, C, ldc);
  });
  // The columns past the last whole block: whole vectors, then single columns.
  std::size_t j = blocks * BLOCK;
  for (; j + W <= N; j += W) skinny_block<T, ROWS, 1>(K, at, lines, j, M, C, ldc);
  skinny_columns<T, ROWS>(K, at, lines, j, N, M, C, ldc);
}

}  // namespace

template <typename T>
void gemm_skinny_lines(std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
                       const T* const* b_lines, T* C, std::size_t ldc) {
  if (M > kSkinnyMaxRows)
    throw std::invalid_argument("gemm_skinny_lines: M = " + std::to_string(M) + " exceeds " +
                                std::to_string(kSkinnyMaxRows) + " rows");
  if (M == 0 || N == 0) return;
  if (M == 1)
    skinny<T, 1>(M, N, K, A, lda, b_lines, C, ldc);
  else if (M == 2)
    skinny<T, 2>(M, N, K, A, lda, b_lines, C, ldc);
  else if (M <= 4)
    skinny<T, 4>(M, N, K, A, lda, b_lines, C, ldc);
  else
    skinny<T, 8>(M, N, K, A, lda, b_lines, C, ldc);
}

template void gemm_skinny_lines<float>(std::size_t, std::size_t, std::size_t, const float*,
                                       std::size_t, const float* const*, float*, std::size_t);
template void gemm_skinny_lines<double>(std::size_t, std::size_t, std::size_t, const double*,
                                        std::size_t, const double* const*, double*, std::size_t);

}  // namespace fz
