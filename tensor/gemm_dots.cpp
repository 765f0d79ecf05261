// tensor/gemm_dots.cpp — register-tiled dot products for C = A * B^T over long rows (see
// gemm_dots.hpp for when this beats the packed GEMM).
#include "tensor/gemm_dots.hpp"

#include <algorithm>

#include <xsimd/xsimd.hpp>

#include "tensor/parallel.hpp"

namespace fz {

namespace {

// Tile: 8 rows of A x 3 lines of B = 24 vector accumulators. Lines of B are often misaligned
// (a convolution tap shifts them by one pixel), so a tile reuses each line load 8 times and
// each (aligned) row load 3 times: 11 loads per 24 FMAs.
constexpr std::size_t kTileA = 8;
constexpr std::size_t kTileB = 3;
constexpr std::size_t kChunkBytes = 16384;  // K per pass: 16 KB of every row and line

// The RA x RB tile of C starting at (i0, j0); RA, RB <= kTile (smaller at the edges of C).
template <typename T, std::size_t RA, std::size_t RB>
void dot_tile(std::size_t k0, std::size_t K, const T* A, std::size_t lda, const T* const* lines,
              T* C, std::size_t ldc) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  B acc[RA][RB];
  for (std::size_t a = 0; a < RA; ++a)
    for (std::size_t b = 0; b < RB; ++b) acc[a][b] = B(T(0));
  std::size_t k = k0;
  for (; k + W <= K; k += W) {
    B bv[RB];
    for (std::size_t b = 0; b < RB; ++b) bv[b] = B::load_unaligned(lines[b] + k);
    for (std::size_t a = 0; a < RA; ++a) {
      const B av = B::load_unaligned(A + a * lda + k);
      for (std::size_t b = 0; b < RB; ++b) acc[a][b] = xsimd::fma(av, bv[b], acc[a][b]);
    }
  }
  for (std::size_t a = 0; a < RA; ++a)
    for (std::size_t b = 0; b < RB; ++b) {
      // Lanes summed through memory (GCC 12 warns falsely on xsimd's reduce_add here).
      alignas(64) T lanes[W];
      acc[a][b].store_aligned(lanes);
      T s = T(0);
      for (std::size_t l = 0; l < W; ++l) s += lanes[l];
      for (std::size_t kk = k; kk < K; ++kk) s += A[a * lda + kk] * lines[b][kk];
      // The first K chunk writes C, later chunks add to it (always in chunk order).
      C[a * ldc + b] = k0 == 0 ? s : C[a * ldc + b] + s;
    }
}

// Calls dot_tile with the tile's real size (smaller at the bottom and right edges of C) as
// template arguments.
template <typename T, std::size_t RA>
void dot_tile_rows(std::size_t rb, std::size_t k0, std::size_t K, const T* A, std::size_t lda,
                   const T* const* lines, T* C, std::size_t ldc) {
  switch (rb) {
    case 3: dot_tile<T, RA, 3>(k0, K, A, lda, lines, C, ldc); break;
    case 2: dot_tile<T, RA, 2>(k0, K, A, lda, lines, C, ldc); break;
    default: dot_tile<T, RA, 1>(k0, K, A, lda, lines, C, ldc); break;
  }
}

template <typename T>
void dot_tile_any(std::size_t ra, std::size_t rb, std::size_t k0, std::size_t K, const T* A,
                  std::size_t lda, const T* const* lines, T* C, std::size_t ldc) {
  switch (ra) {
    case 8: dot_tile_rows<T, 8>(rb, k0, K, A, lda, lines, C, ldc); break;
    case 7: dot_tile_rows<T, 7>(rb, k0, K, A, lda, lines, C, ldc); break;
    case 6: dot_tile_rows<T, 6>(rb, k0, K, A, lda, lines, C, ldc); break;
    case 5: dot_tile_rows<T, 5>(rb, k0, K, A, lda, lines, C, ldc); break;
    case 4: dot_tile_rows<T, 4>(rb, k0, K, A, lda, lines, C, ldc); break;
    case 3: dot_tile_rows<T, 3>(rb, k0, K, A, lda, lines, C, ldc); break;
    case 2: dot_tile_rows<T, 2>(rb, k0, K, A, lda, lines, C, ldc); break;
    default: dot_tile_rows<T, 1>(rb, k0, K, A, lda, lines, C, ldc); break;
  }
}

}  // namespace

template <typename T>
void gemm_dots(std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
               const T* const* b_lines, T* C, std::size_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (std::size_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  const std::size_t tiles_m = (M + kTileA - 1) / kTileA, tiles_n = (N + kTileB - 1) / kTileB;
  // K is cut into chunks so that one chunk of every row and line stays in L2 while all tiles
  // use it: without this, each column of tiles streams all of A from memory again.
  const std::size_t chunk = kChunkBytes / sizeof(T);
  for (std::size_t k0 = 0; k0 < K; k0 += chunk) {
    const std::size_t k1 = std::min(K, k0 + chunk);
    // One tile costs 24 * chunk multiply-adds; a grain of a few tiles keeps TBB overhead small.
    const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / (24 * (k1 - k0) + 1));
    parallel_for(tiles_m * tiles_n, grain, [&](std::size_t t0, std::size_t t1) {
      for (std::size_t t = t0; t < t1; ++t) {
        // Tiles sharing the same B lines run consecutively (the lines stay in L1).
        const std::size_t tj = t / tiles_m, ti = t % tiles_m;
        const std::size_t i0 = ti * kTileA, j0 = tj * kTileB;
        dot_tile_any<T>(std::min(kTileA, M - i0), std::min(kTileB, N - j0), k0, k1, A + i0 * lda,
                        lda, b_lines + j0, C + i0 * ldc + j0, ldc);
      }
    });
  }
}

template void gemm_dots<float>(std::size_t, std::size_t, std::size_t, const float*, std::size_t,
                               const float* const*, float*, std::size_t);
template void gemm_dots<double>(std::size_t, std::size_t, std::size_t, const double*,
                                std::size_t, const double* const*, double*, std::size_t);

}  // namespace fz
