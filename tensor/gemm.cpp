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
constexpr std::size_t kParallelWork = 160 * 160 * 160;

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

// The register-blocked ROWS x NR tile: acc = sum_k op(A)(i, k) * op(B)(k, j), then
// C = alpha * acc + beta * C (C not read when beta == 0). mr x nr is the valid part.
// Where the operands come from:
//   A, A_ROWS = false: a[k * a_step + i] — a packed sliver (a_step = MR) or, read in place, a
//                      transposed A (op(A)(i, k) = A[k * lda + i], a_step = lda);
//   A, A_ROWS = true:  a[i * a_step + k] — a row-major A read in place (a_step = lda);
//   B:                 b[k * b_step + j] — a packed sliver (b_step = NR) or B's rows in place.
// ROWS is MR for full slivers; a sliver with only a few valid rows (a convolution with 4 output
// channels) runs a shorter tile over the same packed layout instead of multiplying zeros.
template <typename T, std::size_t ROWS, bool A_ROWS = false>
void micro_kernel(std::size_t kc, const T* __restrict a, std::size_t a_step,
                  const T* __restrict b, std::size_t b_step, T* C, std::size_t ldc,
                  std::size_t mr, std::size_t nr, T alpha, T beta) {
  using B = Batch<T>;
  constexpr std::size_t W = B::size;
  constexpr std::size_t MR = ROWS;          // rows computed
  constexpr std::size_t NR = Blocking<T>::NR;
  B acc[MR][kNB];
#pragma GCC unroll 16
  for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < kNB; ++v) acc[i][v] = B(T(0));

  for (std::size_t k = 0; k < kc; ++k) {
    B bv[kNB];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < kNB; ++v) bv[v] = B::load_unaligned(b + v * W);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) {
      const B ai(A_ROWS ? a[i * a_step] : a[i]);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < kNB; ++v) acc[i][v] = xsimd::fma(ai, bv[v], acc[i][v]);
    }
    a += A_ROWS ? 1 : a_step;
    b += b_step;
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

// Picks the shortest tile that covers the packed sliver's valid rows. b: a packed B sliver, or
// B's rows in place when b_step != NR.
template <typename T>
void run_tile(std::size_t kc, const T* a, const T* b, std::size_t b_step, T* C, std::size_t ldc,
              std::size_t mr, std::size_t nr, T alpha, T beta) {
  constexpr std::size_t MR = Blocking<T>::MR;
  if (MR > 4 && mr <= 4)
    micro_kernel<T, 4>(kc, a, MR, b, b_step, C, ldc, mr, nr, alpha, beta);
  else if (MR > 8 && mr <= 8)
    micro_kernel<T, 8>(kc, a, MR, b, b_step, C, ldc, mr, nr, alpha, beta);
  else
    micro_kernel<T, MR>(kc, a, MR, b, b_step, C, ldc, mr, nr, alpha, beta);
}

// The serial blocked algorithm on the rectangle C[0:M, 0:N] (A, B, C already offset to it).
template <typename T>
void gemm_blocked(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha,
                  const T* A, std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc) {
  using Bl = Blocking<T>;
  // A K a little over KC (a 3x3 convolution over 32 channels: 288) runs as one block rather
  // than a full one and a sliver: the sliver would cost a pass over C and a packing of B for a
  // few multiply-adds per element.
  const std::size_t kc_max = K <= Bl::KC * 3 / 2 ? K : Bl::KC;
  const std::size_t nc_max = std::min(Bl::NC, (N + Bl::NR - 1) / Bl::NR * Bl::NR);
  const std::size_t mc_max = std::min(Bl::MC, (M + Bl::MR - 1) / Bl::MR * Bl::MR);
  T* bpack = scratch<T>(0, kc_max * nc_max);
  T* apack = scratch<T>(1, kc_max * mc_max);

  for (std::size_t jc = 0; jc < N; jc += Bl::NC) {
    const std::size_t nc = std::min(Bl::NC, N - jc);
    for (std::size_t pc = 0; pc < K; pc += kc_max) {
      const std::size_t kc = std::min(kc_max, K - pc);
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
            run_tile<T>(kc, a, bpack + jr * kc, Bl::NR, C + (ic + ir) * ldc + jc + jr, ldc, mr,
                        nr, alpha, beta_block);
          }
        }
      }
    }
  }
}

// Products whose operands fit in L2 (the 64 x 64 layers of the 2-D toy flows at batch 512:
// x W^T, G W and G^T x) spend a third of their time packing when K is short. Here the micro-
// kernel reads A in place (row-major A: 12 rows side by side; A^T: 12 contiguous values per
// k), and B in place when it is row-major with whole NR-wide column blocks; otherwise all of
// op(B) is packed once. Only a last partial sliver of A is packed (zero padding keeps the
// kernel on full tiles without reading past A).
template <typename T>
bool direct_fits(bool trans_a, std::size_t M, std::size_t N, std::size_t K, std::size_t lda) {
  constexpr std::size_t kMaxBytes = 256 * 1024;
  // Row-major A: the 12 rows of a sliver are read side by side and must stay in L1 (short
  // rows, and a row stride small enough that they do not all fall into the same cache sets).
  if (!trans_a && (K > Blocking<T>::KC || lda * sizeof(T) > 2048)) return false;
  return M * K * sizeof(T) <= kMaxBytes && K * N * sizeof(T) <= kMaxBytes;
}

template <typename T>
void gemm_direct(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha,
                 const T* A, std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc) {
  using Bl = Blocking<T>;
  const T* b = nullptr;
  std::size_t b_step = 0, b_sliver = 0;  // op(B)(k, jr + j) = b[jr * b_sliver + k * b_step + j]
  if (!B.trans && !B.lines && N % Bl::NR == 0) {
    b = B.base + B.j_off;
    b_step = B.ld;
    b_sliver = 1;
  } else {
    T* bpack = scratch<T>(0, K * ((N + Bl::NR - 1) / Bl::NR * Bl::NR));
    pack_b(B, 0, K, 0, N, bpack);
    b = bpack;
    b_step = Bl::NR;
    b_sliver = K;
  }
  const std::size_t full = M / Bl::MR * Bl::MR;
  for (std::size_t ir = 0; ir < full; ir += Bl::MR) {
    for (std::size_t jr = 0; jr < N; jr += Bl::NR) {
      const std::size_t nr = std::min(Bl::NR, N - jr);
      T* c = C + ir * ldc + jr;
      if (trans_a)
        micro_kernel<T, Bl::MR>(K, A + ir, lda, b + jr * b_sliver, b_step, c, ldc, Bl::MR, nr,
                                alpha, beta);
      else
        micro_kernel<T, Bl::MR, true>(K, A + ir * lda, lda, b + jr * b_sliver, b_step, c, ldc,
                                      Bl::MR, nr, alpha, beta);
    }
  }
  if (full < M) {
    const std::size_t mr = M - full;
    T* apack = scratch<T>(1, K * Bl::MR);
    pack_a(trans_a, A, lda, full, mr, 0, K, apack);
    for (std::size_t jr = 0; jr < N; jr += Bl::NR)
      run_tile<T>(K, apack, b + jr * b_sliver, b_step, C + full * ldc + jr, ldc, mr,
                  std::min(Bl::NR, N - jr), alpha, beta);
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
// instead, reading the operands in place where their layout allows. Returns false when the
// shape is not thin.
constexpr std::size_t kThin = 4;

// C(i, j) = alpha * dot(A row i, cols[j]) + beta * C(i, j) for N (<= kThin) columns: one pass
// over each row of A with the N partial-sum vectors in registers, then one horizontal sum
// each. (xsimd 8.1's haddp, which would reduce 16 rows at once, permutes lanes on AVX-512.)
template <typename T, std::size_t N>
void thin_row_dots(std::size_t M, std::size_t K, T alpha, const T* A, std::size_t lda,
                   const T* const* cols, T beta, T* C, std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  const std::size_t kv = K / W * W;
  for (std::size_t i = 0; i < M; ++i) {
    const T* a = A + i * lda;
    V acc[N];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) acc[j] = V(T(0));
    for (std::size_t k = 0; k < kv; k += W) {
      const V av = V::load_unaligned(a + k);
#pragma GCC unroll 4
      for (std::size_t j = 0; j < N; ++j)
        acc[j] = xsimd::fma(av, V::load_unaligned(cols[j] + k), acc[j]);
    }
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) {
      T sum = xsimd::hadd(acc[j]);
      for (std::size_t k = kv; k < K; ++k) sum += a[k] * cols[j][k];
      T& c = C[i * ldc + j];
      c = beta == T(0) ? alpha * sum : alpha * sum + beta * c;
    }
  }
}

// C(i, :) = alpha * sum_k op(A)(i, k) B(k, :) + beta * C(i, :) for M (<= kThin) rows and a
// row-major B read in place: one pass over B's rows per block of 4W columns, the M x 4W block
// of C in registers; the last N % 4W columns go through plain loops.
template <typename T, std::size_t M>
void thin_row_combos(bool trans_a, std::size_t N, std::size_t K, T alpha, const T* A,
                     std::size_t lda, const T* b, std::size_t ldb, T beta, T* C,
                     std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  constexpr std::size_t NV = 4;
  const std::size_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
  const std::size_t blocked = N / (NV * W) * (NV * W);
  for (std::size_t j0 = 0; j0 < blocked; j0 += NV * W) {
    V acc[M][NV];
#pragma GCC unroll 4
    for (std::size_t i = 0; i < M; ++i)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[i][v] = V(T(0));
    const T* brow = b + j0;
    for (std::size_t k = 0; k < K; ++k, brow += ldb) {
      V bv[NV];
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) bv[v] = V::load_unaligned(brow + v * W);
#pragma GCC unroll 4
      for (std::size_t i = 0; i < M; ++i) {
        const V ai(A[i * a_rs + k * a_cs]);
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) acc[i][v] = xsimd::fma(ai, bv[v], acc[i][v]);
      }
    }
#pragma GCC unroll 4
    for (std::size_t i = 0; i < M; ++i)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) {
        T* c = C + i * ldc + j0 + v * W;
        const V r = V(alpha) * acc[i][v];
        (beta == T(0) ? r : xsimd::fma(V(beta), V::load_unaligned(c), r)).store_unaligned(c);
      }
  }
  if (blocked == N) return;
  for (std::size_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    for (std::size_t j = blocked; j < N; ++j) c[j] = beta == T(0) ? T(0) : beta * c[j];
    for (std::size_t k = 0; k < K; ++k) {
      const T aik = alpha * A[i * a_rs + k * a_cs];
      const T* brow = b + k * ldb;
      for (std::size_t j = blocked; j < N; ++j) c[j] += aik * brow[j];
    }
  }
}

// C(i, :) = beta C(i, :) + alpha sum_k op(A)(i, k) rows[k] for K (<= kThin) rows of length N.
template <typename T, std::size_t K>
void thin_col_combos(bool trans_a, std::size_t M, std::size_t N, T alpha, const T* A,
                     std::size_t lda, const T* const* rows, T beta, T* C, std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  const std::size_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
  for (std::size_t i = 0; i < M; ++i) {
    T coef[K];
#pragma GCC unroll 4
    for (std::size_t k = 0; k < K; ++k) coef[k] = alpha * A[i * a_rs + k * a_cs];
    T* c = C + i * ldc;
    std::size_t j = 0;
    if (beta == T(0)) {
      for (; j + W <= N; j += W) {
        V acc = V(coef[0]) * V::load_unaligned(rows[0] + j);
#pragma GCC unroll 4
        for (std::size_t k = 1; k < K; ++k)
          acc = xsimd::fma(V(coef[k]), V::load_unaligned(rows[k] + j), acc);
        acc.store_unaligned(c + j);
      }
    } else {
      const V vbeta(beta);
      for (; j + W <= N; j += W) {
        V acc = vbeta * V::load_unaligned(c + j);
#pragma GCC unroll 4
        for (std::size_t k = 0; k < K; ++k)
          acc = xsimd::fma(V(coef[k]), V::load_unaligned(rows[k] + j), acc);
        acc.store_unaligned(c + j);
      }
    }
    for (; j < N; ++j) {
      T acc = beta == T(0) ? T(0) : beta * c[j];
      for (std::size_t k = 0; k < K; ++k) acc += coef[k] * rows[k][j];
      c[j] = acc;
    }
  }
}

template <typename T>
bool gemm_thin(bool trans_a, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
               std::size_t lda, const BView<T>& B, T beta, T* C, std::size_t ldc) {
  using V = Batch<T>;
  constexpr std::size_t W = V::size;
  if (K <= kThin && N >= W) {
    // C(i, :) = beta C(i, :) + alpha sum_k op(A)(i, k) op(B)(k, :), with op(B)'s K rows read in
    // place (row-major B) or made contiguous first.
    const T* rows[kThin];
    if (!B.trans) {
      for (std::size_t k = 0; k < K; ++k) rows[k] = B.line(k) + B.j_off;
    } else {
      T* buf = scratch<T>(0, K * N);
      for (std::size_t k = 0; k < K; ++k) {
        for (std::size_t j = 0; j < N; ++j) buf[k * N + j] = B.at(k, j);
        rows[k] = buf + k * N;
      }
    }
    switch (K) {
      case 1: thin_col_combos<T, 1>(trans_a, M, N, alpha, A, lda, rows, beta, C, ldc); break;
      case 2: thin_col_combos<T, 2>(trans_a, M, N, alpha, A, lda, rows, beta, C, ldc); break;
      case 3: thin_col_combos<T, 3>(trans_a, M, N, alpha, A, lda, rows, beta, C, ldc); break;
      default: thin_col_combos<T, 4>(trans_a, M, N, alpha, A, lda, rows, beta, C, ldc); break;
    }
    return true;
  }
  if (M <= kThin && N >= 4 * W && !B.trans && !B.lines) {
    // C(i, :) = beta C(i, :) + alpha sum_k op(A)(i, k) B(k, :): one pass over B's rows per
    // block of 4W columns, the M x 4W block of C kept in registers.
    const T* b = B.base + B.j_off;
    switch (M) {
      case 1: thin_row_combos<T, 1>(trans_a, N, K, alpha, A, lda, b, B.ld, beta, C, ldc); break;
      case 2: thin_row_combos<T, 2>(trans_a, N, K, alpha, A, lda, b, B.ld, beta, C, ldc); break;
      case 3: thin_row_combos<T, 3>(trans_a, N, K, alpha, A, lda, b, B.ld, beta, C, ldc); break;
      default: thin_row_combos<T, 4>(trans_a, N, K, alpha, A, lda, b, B.ld, beta, C, ldc); break;
    }
    return true;
  }
  if (N <= kThin && K >= W) {
    // C(:, j) = beta C(:, j) + alpha op(A) op(B)(:, j), with op(B)'s N columns read in place
    // (B^T: its rows) or made contiguous.
    const T* cols[kThin];
    if (B.trans) {
      for (std::size_t j = 0; j < N; ++j) cols[j] = B.line(B.j_off + j);
    } else {
      T* buf = scratch<T>(0, N * K);
      for (std::size_t j = 0; j < N; ++j) {
        for (std::size_t k = 0; k < K; ++k) buf[j * K + k] = B.at(k, j);
        cols[j] = buf + j * K;
      }
    }
    if (!trans_a) {
      switch (N) {
        case 1: thin_row_dots<T, 1>(M, K, alpha, A, lda, cols, beta, C, ldc); break;
        case 2: thin_row_dots<T, 2>(M, K, alpha, A, lda, cols, beta, C, ldc); break;
        case 3: thin_row_dots<T, 3>(M, K, alpha, A, lda, cols, beta, C, ldc); break;
        default: thin_row_dots<T, 4>(M, K, alpha, A, lda, cols, beta, C, ldc); break;
      }
    } else {  // op(A) = A^T: rows of A are contiguous over i, so accumulate axpy-style
      T* acc = scratch<T>(1, M);
      for (std::size_t j = 0; j < N; ++j) {
        std::fill(acc, acc + M, T(0));
        for (std::size_t k = 0; k < K; ++k) {
          const V b(cols[j][k]);
          const T* a = A + k * lda;
          std::size_t i = 0;
          for (; i + W <= M; i += W)
            xsimd::fma(V::load_unaligned(a + i), b, V::load_aligned(acc + i)).store_aligned(acc + i);
          for (; i < M; ++i) acc[i] += a[i] * cols[j][k];
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
