// tensor/gemm_kernel.hpp — the pieces every packed GEMM strategy is made of: the register
// blocking (Blocking), the view of op(B) as a strided matrix or line pointers (BView), the
// packing of A and B into slivers (pack_a, pack_b) and the xsimd micro-kernel that computes
// one register tile of C (micro_kernel, run_tile). Internal to tensor/: the public entry
// points are in gemm.hpp.
//
// Which file has what:
//   gemm.hpp / gemm.cpp     the public gemm, gemm_lines, gemm_reference and the driver that
//                           picks a strategy and cuts C into one rectangle per thread
//   gemm_strategies.hpp     the strategies' declarations
//   gemm_blocked.cpp        the cache-blocked Goto/BLIS loop, the unpacked direct path for
//                           operands that fit in L2, plain loops for tiny products
//   gemm_thin.cpp           products with a dimension of at most four (vector loops)
//   gemm_kernel.hpp         this file
//   gemm_dots.cpp, gemm_skinny.cpp  the convolution's special products (their own headers)
//
// The micro-kernel keeps the whole MR x NR tile of C in vector registers: per k it loads NR
// values of B (NB vectors), broadcasts MR values of A and issues MR * NB FMAs. With AVX-512
// (32 registers) MR = 12, NR = 32 floats: 24 accumulators + 2 B vectors + a broadcast. With
// AVX2 (16 registers) MR = 6, NR = 16: 12 accumulators. Packing pads partial slivers with
// zeros, so the kernel always computes full tiles; partial tiles go through a small buffer.
// Transposes only change how the packing routines read A and B.
#pragma once

#include <algorithm>
#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "scratch.hpp"

namespace fz::gemm_detail {

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

}  // namespace fz::gemm_detail
