// tensor/gemm_dots.cpp — register-tiled dot products for C = A * B^T over long rows (see
// gemm_dots.hpp for when this beats the packed GEMM).
#include "tensor/gemm_dots.hpp"

#include <algorithm>

#include <xsimd/xsimd.hpp>

#include "tensor/parallel.hpp"

namespace fz {

namespace {

constexpr std::size_t kTile = 4;  // rows of A and lines of B per tile

// The RA x RB tile of C starting at (i0, j0); RA, RB <= kTile (smaller at the edges of C).
template <typename T, std::size_t RA, std::size_t RB>
void dot_tile(std::size_t K, const T* A, std::size_t lda, const T* const* lines, T* C,
              std::size_t ldc) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  B acc[RA][RB];
  for (std::size_t a = 0; a < RA; ++a)
    for (std::size_t b = 0; b < RB; ++b) acc[a][b] = B(T(0));
  std::size_t k = 0;
  for (; k + W <= K; k += W) {
    B av[RA], bv[RB];
    for (std::size_t a = 0; a < RA; ++a) av[a] = B::load_unaligned(A + a * lda + k);
    for (std::size_t b = 0; b < RB; ++b) bv[b] = B::load_unaligned(lines[b] + k);
    for (std::size_t a = 0; a < RA; ++a)
      for (std::size_t b = 0; b < RB; ++b) acc[a][b] = xsimd::fma(av[a], bv[b], acc[a][b]);
  }
  for (std::size_t a = 0; a < RA; ++a)
    for (std::size_t b = 0; b < RB; ++b) {
      // Lanes summed through memory (GCC 12 warns falsely on xsimd's reduce_add here).
      alignas(64) T lanes[W];
      acc[a][b].store_aligned(lanes);
      T s = T(0);
      for (std::size_t l = 0; l < W; ++l) s += lanes[l];
      for (std::size_t kk = k; kk < K; ++kk) s += A[a * lda + kk] * lines[b][kk];
      C[a * ldc + b] = s;
    }
}

// Calls dot_tile with the tile's real size as template arguments.
template <typename T, std::size_t RA>
void dot_tile_rows(std::size_t rb, std::size_t K, const T* A, std::size_t lda,
                   const T* const* lines, T* C, std::size_t ldc) {
  switch (rb) {
    case 4: dot_tile<T, RA, 4>(K, A, lda, lines, C, ldc); break;
    case 3: dot_tile<T, RA, 3>(K, A, lda, lines, C, ldc); break;
    case 2: dot_tile<T, RA, 2>(K, A, lda, lines, C, ldc); break;
    default: dot_tile<T, RA, 1>(K, A, lda, lines, C, ldc); break;
  }
}

}  // namespace

template <typename T>
void gemm_dots(std::size_t M, std::size_t N, std::size_t K, const T* A, std::size_t lda,
               const T* const* b_lines, T* C, std::size_t ldc) {
  const std::size_t tiles_m = (M + kTile - 1) / kTile, tiles_n = (N + kTile - 1) / kTile;
  // One tile costs 16 * K multiply-adds; a grain of a few tiles keeps TBB overhead small.
  const std::size_t grain = std::max<std::size_t>(1, kParallelGrain / (16 * K + 1));
  parallel_for(tiles_m * tiles_n, grain, [&](std::size_t t0, std::size_t t1) {
    for (std::size_t t = t0; t < t1; ++t) {
      // Tiles sharing the same B lines run consecutively (lines stay in cache across rows of A).
      const std::size_t tj = t / tiles_m, ti = t % tiles_m;
      const std::size_t i0 = ti * kTile, j0 = tj * kTile;
      const std::size_t ra = std::min(kTile, M - i0), rb = std::min(kTile, N - j0);
      const T* a = A + i0 * lda;
      const T* const* lines = b_lines + j0;
      T* c = C + i0 * ldc + j0;
      switch (ra) {
        case 4: dot_tile_rows<T, 4>(rb, K, a, lda, lines, c, ldc); break;
        case 3: dot_tile_rows<T, 3>(rb, K, a, lda, lines, c, ldc); break;
        case 2: dot_tile_rows<T, 2>(rb, K, a, lda, lines, c, ldc); break;
        default: dot_tile_rows<T, 1>(rb, K, a, lda, lines, c, ldc); break;
      }
    }
  });
}

template void gemm_dots<float>(std::size_t, std::size_t, std::size_t, const float*, std::size_t,
                               const float* const*, float*, std::size_t);
template void gemm_dots<double>(std::size_t, std::size_t, std::size_t, const double*,
                                std::size_t, const double* const*, double*, std::size_t);

}  // namespace fz
