// tensor/gemm.cpp — the GEMM kernel: cache blocking, packing and the xsimd micro-kernel.
//
// The classic Goto/BLIS structure, for row-major C = alpha * op(A) op(B) + beta * C:
//
//   for jc in N step NC:                 B block (KC x NC) packed once, stays in L2
//     for pc in K step KC:
//       pack op(B)[pc:pc+KC, jc:jc+NC] into NR-wide slivers
//       for ic in M step MC:
//         pack op(A)[ic:ic+MC, pc:pc+KC] into MR-tall slivers
//         for ir in MC step MR:          one A sliver (MR x KC) stays in L1 ...
//           for jr in NC step NR:        ... while B slivers stream from L2
//             micro-kernel: MR x NR tile of C += A sliver * B sliver
//
// The micro-kernel keeps the whole MR x NR tile of C in vector registers: per k it loads NR
// values of B (NB vectors), broadcasts MR values of A and issues MR * NB FMAs. With AVX-512
// (32 registers) MR = 12, NR = 32 floats: 24 accumulators + 2 B vectors + a broadcast. With
// AVX2 (16 registers) MR = 6, NR = 16: 12 accumulators. Packing pads partial slivers with
// zeros, so the kernel always computes full tiles; partial tiles go through a small buffer.
// Transposes only change how the packing routines read A and B.
//
// Threads: C is cut into one rectangle per thread (along M when M >= N, else along N); each
// thread runs the serial algorithm on its rectangle with its own packing buffers.
#include "tensor/gemm.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <xsimd/xsimd.hpp>

#include "tensor/parallel.hpp"
#include "tensor/scratch.hpp"

namespace fz {

namespace {

template <typename T>
using Batch = xsimd::batch<T>;

// Register blocking (see the header comment).
#if defined(__AVX512F__)
constexpr std::size_t kMR = 12;
#else
constexpr std::size_t kMR = 6;
#endif
constexpr std::size_t kNB = 2;  // vectors of B per row of the tile

template <typename T>
struct Blocking {
  static constexpr std::size_t W = Batch<T>::size;
  static constexpr std::size_t MR = kMR;
  static constexpr std::size_t NR = kNB * W;
  // KC * NR * sizeof(T): one B sliver; KC * NC * sizeof(T): the B block, sized for L2.
  static constexpr std::size_t KC = 256 * 4 / sizeof(T);
  static constexpr std::size_t NC = 512 / NR * NR;
  static constexpr std::size_t MC = MR * 16;
};

// Below this many multiply-adds the packed path is not worth it: a plain loop is used.
constexpr std::size_t kSmallWork = 16 * 16 * 16;
// Below this many multiply-adds a product stays on one thread (TBB costs microseconds).
constexpr std::size_t kParallelWork = 96 * 96 * 96;

// GEMM's packing buffers: 0 = B block, 1 = A block (per thread, reused across calls).
struct GemmPacking {};
template <typename T>
T* scratch(std::size_t which, std::size_t n) {
  return detail::thread_scratch<GemmPacking, T>(which, n);
}

// Where op(B) comes from: one strided matrix (line i starts at base + i*ld), or a list of
// line pointers (convolution reads its shifted input rows in place instead of building an
// im2col copy). Not transposed: line k holds op(B)(k, 0..N). Transposed: line j holds
// op(B)(0..K, j). j_off shifts the columns (a thread's slice of C).
template <typename T>
struct BView {
  const T* base = nullptr;
  std::size_t ld = 0;
  const T* const* lines = nullptr;
  bool trans = false;
  std::size_t j_off = 0;
  const T* line(std::size_t i) const { return lines ? lines[i] : base + i * ld; }
  T at(std::size_t k, std::size_t j) const {
    return trans ? line(j_off + j)[k] : line(k)[j_off + j];
  }
};

// Packs op(B)[k0:k0+kc, j0:j0+nc] as consecutive NR-wide slivers: sliver s holds, for each k,
// the NR values op(B)(k, j0 + s*NR + 0..NR-1), zero-padded past nc.
template <typename T>
void pack_b(const BView<T>& b, std::size_t k0, std::size_t kc, std::size_t j0, std::size_t nc,
            T* dst) {
  constexpr std::size_t NR = Blocking<T>::NR;
  constexpr std::size_t W = Blocking<T>::W;
  for (std::size_t js = 0; js < nc; js += NR) {
    const std::size_t nr = std::min(NR, nc - js);
    const std::size_t j = b.j_off + j0 + js;
    if (!b.trans) {
      // op(B) row k is contiguous: copy NR values per k.
      if (nr == NR) {
        for (std::size_t k = 0; k < kc; ++k) {
          const T* src = b.line(k0 + k) + j;
          Batch<T>::load_unaligned(src).store_aligned(dst + k * NR);
          Batch<T>::load_unaligned(src + W).store_aligned(dst + k * NR + W);
        }
      } else {
        for (std::size_t k = 0; k < kc; ++k) {
          const T* src = b.line(k0 + k) + j;
          std::size_t jj = 0;
          for (; jj < nr; ++jj) dst[k * NR + jj] = src[jj];
          for (; jj < NR; ++jj) dst[k * NR + jj] = T(0);
        }
      }
    } else {
      // op(B)(k, j) = line j at k: each line is one column of the sliver.
      for (std::size_t jj = 0; jj < nr; ++jj) {
        const T* src = b.line(j + jj) + k0;
        for (std::size_t k = 0; k < kc; ++k) dst[k * NR + jj] = src[k];
      }
      for (std::size_t jj = nr; jj < NR; ++jj)
        for (std::size_t k = 0; k < kc; ++k) dst[k * NR + jj] = T(0);
    }
    dst += kc * NR;
  }
}

// Packs op(A)[i0:i0+mc, k0:k0+kc] as consecutive MR-tall slivers: sliver s holds, for each k,
// the MR values op(A)(i0 + s*MR + 0..MR-1, k), zero-padded past mc.
template <typename T>
void pack_a(bool trans_a, const T* A, std::size_t lda, std::size_t i0, std::size_t mc,
            std::size_t k0, std::size_t kc, T* dst) {
  constexpr std::size_t MR = Blocking<T>::MR;
  for (std::size_t is = 0; is < mc; is += MR) {
    const std::size_t mr = std::min(MR, mc - is);
    if (!trans_a) {
      // op(A)(i, k) = A[i * lda + k]: read each row sequentially and scatter it into the
      // sliver (the sliver is small and stays in L1). Reading the MR rows side by side would
      // touch MR lines of one cache set at a time when lda is a power of two, and thrash L1.
      const T* src = A + (i0 + is) * lda + k0;
      for (std::size_t i = 0; i < mr; ++i) {
        const T* row = src + i * lda;
        for (std::size_t k = 0; k < kc; ++k) dst[k * MR + i] = row[k];
      }
      for (std::size_t i = mr; i < MR; ++i)
        for (std::size_t k = 0; k < kc; ++k) dst[k * MR + i] = T(0);
    } else {
      // op(A)(i, k) = A[k * lda + i]: MR contiguous values per k.
      const T* src = A + k0 * lda + i0 + is;
      if (mr == MR) {
        for (std::size_t k = 0; k < kc; ++k)
#pragma GCC unroll 16
          for (std::size_t i = 0; i < MR; ++i) dst[k * MR + i] = src[k * lda + i];
        dst += kc * MR;
        continue;
      }
      for (std::size_t k = 0; k < kc; ++k) {
        std::size_t i = 0;
        for (; i < mr; ++i) dst[k * MR + i] = src[k * lda + i];
        for (; i < MR; ++i) dst[k * MR + i] = T(0);
      }
    }
    dst += kc * MR;
  }
}

// The register-blocked ROWS x NR tile: acc = sum_k a[k*MR + i] * b[k*NR + j], then
// C = alpha * acc + beta * C (C not read when beta == 0). mr x nr is the valid part.
// ROWS is MR for full slivers; a sliver with only a few valid rows (a convolution with 4 output
// channels) runs a shorter tile over the same packed layout instead of multiplying zeros.
template <typename T, std::size_t ROWS>
void micro_kernel(std::size_t kc, const T* __restrict a, const T* __restrict b, T* C,
                  std::size_t ldc, std::size_t mr, std::size_t nr, T alpha, T beta) {
  using B = Batch<T>;
  constexpr std::size_t W = B::size;
  constexpr std::size_t MR = ROWS;          // rows computed
  constexpr std::size_t A_STRIDE = Blocking<T>::MR;  // rows packed per k
  constexpr std::size_t NR = Blocking<T>::NR;
  B acc[MR][kNB];
#pragma GCC unroll 16
  for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < kNB; ++v) acc[i][v] = B(T(0));

  for (std::size_t k = 0; k < kc; ++k) {
    B bv[kNB];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < kNB; ++v) bv[v] = B::load_aligned(b + v * W);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) {
      const B ai(a[i]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < kNB; ++v) acc[i][v] = xsimd::fma(ai, bv[v], acc[i][v]);
    }
    a += A_STRIDE;
    b += NR;
  }

  const B valpha(alpha);
  if (mr == MR && nr == NR) {
    if (beta == T(0)) {
#pragma GCC unroll 16
      for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < kNB; ++v)
          (valpha * acc[i][v]).store_unaligned(C + i * ldc + v * W);
    } else {
      const B vbeta(beta);
#pragma GCC unroll 16
      for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < kNB; ++v) {
          T* c = C + i * ldc + v * W;
          xsimd::fma(valpha, acc[i][v], vbeta * B::load_unaligned(c)).store_unaligned(c);
        }
    }
    return;
  }
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 16
  for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < kNB; ++v) acc[i][v].store_aligned(tile + i * NR + v * W);
  for (std::size_t i = 0; i < mr; ++i)
    for (std::size_t j = 0; j < nr; ++j) {
      T& c = C[i * ldc + j];
      c = beta == T(0) ? alpha * tile[i * NR + j] : alpha * tile[i * NR + j] + beta * c;
    }
}

// Picks the shortest tile that covers the sliver's valid rows.
template <typename T>
void run_tile(std::size_t kc, const T* a, const T* b, T* C, std::size_t ldc, std::size_t mr,
              std::size_t nr, T alpha, T beta) {
  constexpr std::size_t MR = Blocking<T>::MR;
  if (MR > 4 && mr <= 4)
    micro_kernel<T, 4>(kc, a, b, C, ldc, mr, nr, alpha, beta);
  else if (MR > 8 && mr <= 8)
    micro_kernel<T, 8>(kc, a, b, C, ldc, mr, nr, alpha, beta);
  else
    micro_kernel<T, MR>(kc, a, b, C, ldc, mr, nr, alpha, beta);
}

// The serial blocked algorithm on the rectangle C[0:M, 0:N] (A, B, C already offset to it).
template <typename T>
void gemm_blocked(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha,
                  const T* A, std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc) {
  using Bl = Blocking<T>;
  const std::size_t kc_max = std::min(Bl::KC, K);
  const std::size_t nc_max = std::min(Bl::NC, (N + Bl::NR - 1) / Bl::NR * Bl::NR);
  const std::size_t mc_max = std::min(Bl::MC, (M + Bl::MR - 1) / Bl::MR * Bl::MR);
  T* bpack = scratch<T>(0, kc_max * nc_max);
  T* apack = scratch<T>(1, kc_max * mc_max);

  for (std::size_t jc = 0; jc < N; jc += Bl::NC) {
    const std::size_t nc = std::min(Bl::NC, N - jc);
    for (std::size_t pc = 0; pc < K; pc += Bl::KC) {
      const std::size_t kc = std::min(Bl::KC, K - pc);
      // Later K blocks add onto what the first one wrote.
      const T beta_block = pc == 0 ? beta : T(1);
      pack_b(B, pc, kc, jc, nc, bpack);
      for (std::size_t ic = 0; ic < M; ic += Bl::MC) {
        const std::size_t mc = std::min(Bl::MC, M - ic);
        pack_a(trans_a, A, lda, ic, mc, pc, kc, apack);
        for (std::size_t ir = 0; ir < mc; ir += Bl::MR) {
          const std::size_t mr = std::min(Bl::MR, mc - ir);
          const T* a = apack + ir * kc;
          for (std::size_t jr = 0; jr < nc; jr += Bl::NR) {
            const std::size_t nr = std::min(Bl::NR, nc - jr);
            run_tile<T>(kc, a, bpack + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr,
                        alpha, beta_block);
          }
        }
      }
    }
  }
}

// Plain loops for tiny products (no packing, no scratch).
template <typename T>
void gemm_small(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc) {
  for (std::size_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0))
      std::fill(c, c + N, T(0));
    else if (beta != T(1))
      for (std::size_t j = 0; j < N; ++j) c[j] *= beta;
    for (std::size_t k = 0; k < K; ++k) {
      const T aik = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
      if (!B.trans) {
        const T* b = B.line(k);
        for (std::size_t j = 0; j < N; ++j) c[j] += aik * b[j];
      } else {
        for (std::size_t j = 0; j < N; ++j) c[j] += aik * B.line(j)[k];
      }
    }
  }
}

// Products with a dimension of a few elements (the 2-D toy flows: 1 -> 64 and 64 -> 2 layers)
// waste most of a packed 12 x 32 tile; they run as vector loops over the long dimension
// instead. Returns false when the shape is not thin.
constexpr std::size_t kThin = 4;

template <typename T>
bool gemm_thin(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
               std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  auto a_at = [&](std::size_t i, std::size_t k) { return trans_a ? A[k * lda + i] : A[i * lda + k]; };
  if (K <= kThin && N >= W) {
    // C(i, :) = beta C(i, :) + alpha sum_k op(A)(i, k) op(B)(k, :), with op(B)'s K rows made
    // contiguous first.
    std::vector<T, xsimd::aligned_allocator<T, 64>> rows(K * N);
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t j = 0; j < N; ++j) rows[k * N + j] = B.at(k, j);
    for (std::size_t i = 0; i < M; ++i) {
      T coef[kThin];
      for (std::size_t k = 0; k < K; ++k) coef[k] = alpha * a_at(i, k);
      T* c = C + i * ldc;
      std::size_t j = 0;
      for (; j + W <= N; j += W) {
        V acc = beta == T(0) ? V(T(0)) : V(beta) * V::load_unaligned(c + j);
        for (std::size_t k = 0; k < K; ++k)
          acc = xsimd::fma(V(coef[k]), V::load_unaligned(&rows[k * N + j]), acc);
        acc.store_unaligned(c + j);
      }
      for (; j < N; ++j) {
        T acc = beta == T(0) ? T(0) : beta * c[j];
        for (std::size_t k = 0; k < K; ++k) acc += coef[k] * rows[k * N + j];
        c[j] = acc;
      }
    }
    return true;
  }
  if (N <= kThin && K >= W) {
    // C(:, j) = beta C(:, j) + alpha op(A) op(B)(:, j), with op(B)'s N columns made contiguous.
    std::vector<T, xsimd::aligned_allocator<T, 64>> cols(N * K);
    for (std::size_t j = 0; j < N; ++j)
      for (std::size_t k = 0; k < K; ++k) cols[j * K + k] = B.at(k, j);
    if (!trans_a) {  // rows of op(A) are contiguous: N dot products per row
      for (std::size_t i = 0; i < M; ++i) {
        const T* a = A + i * lda;
        V acc[kThin];
        for (std::size_t j = 0; j < N; ++j) acc[j] = V(T(0));
        std::size_t k = 0;
        for (; k + W <= K; k += W) {
          const V av = V::load_unaligned(a + k);
          for (std::size_t j = 0; j < N; ++j)
            acc[j] = xsimd::fma(av, V::load_unaligned(&cols[j * K + k]), acc[j]);
        }
        for (std::size_t j = 0; j < N; ++j) {
          alignas(64) T lanes[W];
          acc[j].store_aligned(lanes);
          T sum = T(0);
          for (std::size_t l = 0; l < W; ++l) sum += lanes[l];
          for (std::size_t kk = k; kk < K; ++kk) sum += a[kk] * cols[j * K + kk];
          T& c = C[i * ldc + j];
          c = beta == T(0) ? alpha * sum : alpha * sum + beta * c;
        }
      }
    } else {  // op(A) = A^T: rows of A are contiguous over i, so accumulate axpy-style
      std::vector<T, xsimd::aligned_allocator<T, 64>> acc(M);
      for (std::size_t j = 0; j < N; ++j) {
        std::fill(acc.begin(), acc.end(), T(0));
        for (std::size_t k = 0; k < K; ++k) {
          const V b(cols[j * K + k]);
          const T* a = A + k * lda;
          std::size_t i = 0;
          for (; i + W <= M; i += W)
            xsimd::fma(V::load_unaligned(a + i), b, V::load_aligned(&acc[i])).store_aligned(&acc[i]);
          for (; i < M; ++i) acc[i] += a[i] * cols[j * K + k];
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
