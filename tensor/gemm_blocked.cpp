// tensor/gemm_blocked.cpp — the packed GEMM strategies on one thread: gemm_blocked (cache
// blocking), gemm_direct (operands that fit in L2, read in place) and gemm_small (plain loops).
// Their building blocks (packing, micro-kernel) are in gemm_kernel.hpp; gemm.cpp picks one.
//
// gemm_blocked is the classic Goto/BLIS structure, for row-major C = alpha * op(A) op(B) + beta * C:
//
//   for jc in N step NC:                 B block (KC x NC) packed once, stays in L2
//     for pc in K step KC:
//       pack op(B)[pc:pc+KC, jc:jc+NC] into NR-wide slivers
//       for ic in M step MC:
//         pack op(A)[ic:ic+MC, pc:pc+KC] into MR-tall slivers
//         for ir in MC step MR:          one A sliver (MR x KC) stays in L1 ...
//           for jr in NC step NR:        ... while B slivers stream from L2
//             micro-kernel: MR x NR tile of C += A sliver * B sliver
#include <algorithm>
#include <cstddef>

#include "tensor/gemm_kernel.hpp"
#include "tensor/gemm_strategies.hpp"

namespace fz::gemm_detail {

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

#define FZ_INSTANTIATE_GEMM_BLOCKED(T)                                                         \
  template void gemm_blocked<T>(bool, std::size_t, std::size_t, std::size_t, T, const T*,     \
                                std::size_t, const BView<T>&, T, T*, std::size_t);             \
  template bool direct_fits<T>(bool, std::size_t, std::size_t, std::size_t, std::size_t);     \
  template void gemm_direct<T>(bool, std::size_t, std::size_t, std::size_t, T, const T*,      \
                               std::size_t, const BView<T>&, T, T*, std::size_t);              \
  template void gemm_small<T>(bool, std::size_t, std::size_t, std::size_t, T, const T*,       \
                              std::size_t, const BView<T>&, T, T*, std::size_t);
FZ_INSTANTIATE_GEMM_BLOCKED(float)
FZ_INSTANTIATE_GEMM_BLOCKED(double)
#undef FZ_INSTANTIATE_GEMM_BLOCKED

}  // namespace fz::gemm_detail
