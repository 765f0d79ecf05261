// tensor/gemm.cpp — the GEMM entry points (gemm, gemm_lines, gemm_reference) and the driver
// behind them, gemm_view: it picks a strategy for the product's shape (gemm_strategies.hpp:
// plain loops, thin vector loops, the direct or the cache-blocked packed path) and, for large
// products, cuts C into one rectangle per thread. See gemm_kernel.hpp for which file has what.
//
// Threads: C is cut into one rectangle per thread (along M when M >= N, else along N); each
// thread runs the serial algorithm on its rectangle with its own packing buffers.
#include "tensor/gemm.hpp"

#include <algorithm>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "tensor/gemm_kernel.hpp"
#include "tensor/gemm_strategies.hpp"
#include "tensor/parallel.hpp"

namespace fz {

namespace {

using namespace gemm_detail;

// Below this many multiply-adds the packed path is not worth it: a plain loop is used.
constexpr std::size_t kSmallWork = 16 * 16 * 16;
// Below this many multiply-adds a product stays on one thread (TBB costs microseconds).
constexpr std::size_t kParallelWork = 160 * 160 * 160;

// The driver behind both entry points: tiny products as plain loops, the rest blocked, cut
// into one rectangle of C per thread.
template <typename T>
void gemm_view(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
               std::size_t lda, BView<T> B, T beta, T* C, std::size_t ldc, bool parallel) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    // Nothing to multiply: C = beta * C.
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j)
        C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  const std::size_t work = M * N * K;
  if (work <= kSmallWork) {
    gemm_small(trans_a, M, N, K, alpha, A, lda, B, beta, C, ldc);
    return;
  }
  if (gemm_thin(trans_a, M, N, K, alpha, A, lda, B, beta, C, ldc)) return;
  using Bl = Blocking<T>;
  const std::size_t threads = parallel && work >= kParallelWork
                                  ? static_cast<std::size_t>(std::max(1, num_threads()))
                                  : 1;
  // One rectangle of C per thread, cut along the longer side in whole micro-tiles.
  const bool split_m = M >= N;
  const std::size_t unit = split_m ? Bl::MR : Bl::NR;
  const std::size_t extent = split_m ? M : N;
  const std::size_t tiles = (extent + unit - 1) / unit;
  const std::size_t parts = std::min(threads, tiles);
  if (parts <= 1) {
    if (direct_fits<T>(trans_a, M, N, K, lda)) {
      gemm_direct(trans_a, M, N, K, alpha, A, lda, B, beta, C, ldc);
      return;
    }
    gemm_blocked(trans_a, M, N, K, alpha, A, lda, B, beta, C, ldc);
    return;
  }
  auto run_part = [&](std::size_t p) {
    const std::size_t begin = tiles * p / parts * unit;
    const std::size_t end = std::min(extent, tiles * (p + 1) / parts * unit);
    if (begin >= end) return;
    if (split_m) {
      const T* a = trans_a ? A + begin : A + begin * lda;
      gemm_blocked(trans_a, end - begin, N, K, alpha, a, lda, B, beta, C + begin * ldc, ldc);
    } else {
      BView<T> b = B;
      b.j_off += begin;
      gemm_blocked(trans_a, M, end - begin, K, alpha, A, lda, b, beta, C + begin, ldc);
    }
  };
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, parts, 1),
      [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t p = r.begin(); p < r.end(); ++p) run_part(p);
      },
      tbb::simple_partitioner());
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
          const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C,
          std::size_t ldc, bool parallel) {
  BView<T> b;
  b.base = B;
  b.ld = ldb;
  b.trans = trans_b;
  gemm_view(trans_a, M, N, K, alpha, A, lda, b, beta, C, ldc, parallel);
}

template <typename T>
void gemm_lines(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                std::size_t lda, const T* const* b_lines, bool b_lines_are_columns, T beta, T* C,
                std::size_t ldc, bool parallel) {
  BView<T> b;
  b.lines = b_lines;
  b.trans = b_lines_are_columns;
  gemm_view(trans_a, M, N, K, alpha, A, lda, b, beta, C, ldc, parallel);
}

template <typename T>
void gemm_reference(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K,
                    T alpha, const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta,
                    T* C, std::size_t ldc) {
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      T s = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const T a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const T b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        s += a * b;
      }
      T& c = C[i * ldc + j];
      c = beta == T(0) ? alpha * s : alpha * s + beta * c;
    }
}

#define FZ_INSTANTIATE_GEMM(T)                                                               \
  template void gemm<T>(bool, bool, std::size_t, std::size_t, std::size_t, T, const T*,        \
                        std::size_t, const T*, std::size_t, T, T*, std::size_t, bool);         \
  template void gemm_lines<T>(bool, std::size_t, std::size_t, std::size_t, T, const T*,         \
                              std::size_t, const T* const*, bool, T, T*, std::size_t, bool);   \
  template void gemm_reference<T>(bool, bool, std::size_t, std::size_t, std::size_t, T,        \
                                  const T*, std::size_t, const T*, std::size_t, T, T*,         \
                                  std::size_t);
FZ_INSTANTIATE_GEMM(float)
FZ_INSTANTIATE_GEMM(double)
#undef FZ_INSTANTIATE_GEMM

}  // namespace fz
