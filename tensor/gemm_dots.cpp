// tensor/gemm_dots.cpp — register-tiled dot products for C = A * B^T over long rows (see
// gemm_dots.hpp for when this beats the packed GEMM).
//
// A tile of RA rows of A x RB lines of B keeps RA * RB vector accumulators (24): per vector of
// K it loads RB line vectors and RA row vectors. Where those loads come from decides the
// speed, so K is cut into short chunks (kChunkBytes per row) and, within a chunk, the tiles
// sharing the same RA rows of A run consecutively: the rows' chunk (RA * 2 KB) stays in L1
// and only the RB line vectors per step come from L2. Chunks this short would make the
// accumulators' horizontal sums (16 lanes each) cost as much as the multiply-adds, so each
// tile's accumulators are parked in a buffer between chunks, still as vectors, and summed
// across lanes once at the end.
#include "tensor/gemm_dots.hpp"

#include <algorithm>

#include <xsimd/xsimd.hpp>

#include "tensor/parallel.hpp"
#include "tensor/scratch.hpp"

namespace fz {

namespace {

constexpr std::size_t kChunkBytes = 2048;  // K per chunk: 2 KB of every row and line

// One chunk [k0, k1) of one tile. `rows` / `lines` point at RA rows of A and RB lines of B
// (edge tiles repeat their last valid row/line; the extra results are never read). acc holds
// the tile's RA * RB partial-sum vectors: zero before the first chunk, read and written back
// after each.
template <typename T, std::size_t RA, std::size_t RB>
void dot_tile_chunk(std::size_t k0, std::size_t k1, const T* const* rows, const T* const* lines,
                    bool first, T* acc_store) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  B acc[RA][RB];
#pragma GCC unroll 8
  for (std::size_t a = 0; a < RA; ++a)
#pragma GCC unroll 8
    for (std::size_t b = 0; b < RB; ++b)
      acc[a][b] = first ? B(T(0)) : B::load_aligned(acc_store + (a * RB + b) * W);
  for (std::size_t k = k0; k < k1; k += W) {
    B bv[RB];
#pragma GCC unroll 8
    for (std::size_t b = 0; b < RB; ++b) bv[b] = B::load_unaligned(lines[b] + k);
#pragma GCC unroll 8
    for (std::size_t a = 0; a < RA; ++a) {
      B av = B::load_unaligned(rows[a] + k);
      // Keep the row in a register: left alone, GCC folds this load into each of the RB FMAs
      // (RB loads instead of one), which makes the loop load-bound.
      asm("" : "+v"(av.data));
#pragma GCC unroll 8
      for (std::size_t b = 0; b < RB; ++b) acc[a][b] = xsimd::fma(av, bv[b], acc[a][b]);
    }
  }
#pragma GCC unroll 8
  for (std::size_t a = 0; a < RA; ++a)
#pragma GCC unroll 8
    for (std::size_t b = 0; b < RB; ++b) acc[a][b].store_aligned(acc_store + (a * RB + b) * W);
}

template <typename T, std::size_t RA, std::size_t RB>
void dots_tiled(std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
                const T* const* b_lines, T* C, std::size_t ldc) {
  constexpr std::size_t W = xsimd::batch<T>::size;
  constexpr std::size_t per_tile = RA * RB * W;
  const std::size_t tiles_m = (M + RA - 1) / RA, tiles_n = (N + RB - 1) / RB;
  const std::size_t tiles = tiles_m * tiles_n;
  const std::size_t k_vec = K / W * W;  // whole vectors; the rest is added at the end
  struct DotsAccumulators {};
  T* acc = detail::thread_scratch<DotsAccumulators, T>(0, tiles * per_tile);

  const std::size_t chunk = kChunkBytes / sizeof(T);  // a multiple of W
  // Each thread takes one contiguous run of tiles and carries it through every K chunk on its
  // own (no synchronisation per chunk); within a chunk, consecutive tiles share their rows of A
  // (kept in L1) and walk the lines of B.
  const std::size_t threads = static_cast<std::size_t>(std::max(1, num_threads()));
  const bool big = RA * RB * k_vec * tiles >= 4 * kParallelGrain * 16;
  const std::size_t grain = big ? std::max<std::size_t>(1, (tiles + threads - 1) / threads) : tiles;
  parallel_for(tiles, grain, [&](std::size_t t0, std::size_t t1) {
    for (std::size_t k0 = 0; k0 < k_vec; k0 += chunk) {
      const std::size_t k1 = std::min(k_vec, k0 + chunk);
      for (std::size_t t = t0; t < t1; ++t) {
        const std::size_t ti = t / tiles_n, tj = t % tiles_n;
        const T* rows[RA];
        const T* lines[RB];
        for (std::size_t a = 0; a < RA; ++a) rows[a] = A + std::min(ti * RA + a, M - 1) * lda;
        for (std::size_t b = 0; b < RB; ++b) lines[b] = b_lines[std::min(tj * RB + b, N - 1)];
        dot_tile_chunk<T, RA, RB>(k0, k1, rows, lines, k0 == 0, acc + t * per_tile);
      }
    }
  });

  // C(i, j) = the lanes of its accumulator (in lane order) + the last K % W products.
  parallel_for(M, std::max<std::size_t>(1, kParallelGrain / (N * (W + K - k_vec) + 1)),
               [&](std::size_t i0, std::size_t i1) {
                 for (std::size_t i = i0; i < i1; ++i)
                   for (std::size_t j = 0; j < N; ++j) {
                     T s = T(0);
                     if (k_vec > 0) {
                       const std::size_t t = (i / RA) * tiles_n + j / RB;
                       const T* lanes = acc + t * per_tile + ((i % RA) * RB + j % RB) * W;
                       for (std::size_t l = 0; l < W; ++l) s += lanes[l];
                     }
                     for (std::size_t k = k_vec; k < K; ++k) s += A[i * lda + k] * b_lines[j][k];
                     C[i * ldc + j] = s;
                   }
               });
}

}  // namespace

template <typename T>
void gemm_dots(std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
               const T* const* b_lines, T* C, std::size_t ldc) {
  if (M == 0 || N == 0) return;
  // Tiles of 8 rows x 3 lines in general; 4 x 6 or 2 x 8 when A has at most 4 or 2 rows (a
  // convolution with 4 or 2 output channels), so the tile still holds 16-24 accumulators.
  if (M <= 2)
    dots_tiled<T, 2, 8>(M, N, K, A, lda, b_lines, C, ldc);
  else if (M <= 4)
    dots_tiled<T, 4, 6>(M, N, K, A, lda, b_lines, C, ldc);
  else
    dots_tiled<T, 8, 3>(M, N, K, A, lda, b_lines, C, ldc);
}

template void gemm_dots<float>(std::size_t, std::size_t, std::size_t, const float*, std::size_t,
                               const float* const*, float*, std::size_t);
template void gemm_dots<double>(std::size_t, std::size_t, std::size_t, const double*,
                                std::size_t, const double* const*, double*, std::size_t);

}  // namespace fz
