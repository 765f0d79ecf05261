// tests/tensor/test_gemm_skinny.cpp — the few-rows GEMM (tensor/gemm_skinny.hpp) against the
// reference triple loop: every row count 1..8, column counts around the vector width and the
// kernel's block width (full blocks, whole-vector tails, scalar tails), B rows given as
// pointers at odd offsets into one buffer (as convolution taps are), float and double, one
// and two threads.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tensor/gemm.hpp"
#include "tensor/gemm_skinny.hpp"
#include "tensor/parallel.hpp"
#include "tensor/random.hpp"
#include "tensor/simd.hpp"

using namespace fz;

namespace {

// Max |C - C_ref| / (K * max|A| * max|B|) for one skinny product with B rows read from
// shifted, overlapping windows of one buffer.
template <typename T>
double skinny_error(std::size_t M, std::size_t N, std::size_t K, Rng& rng) {
  const std::size_t lda = K + 3, ldc = N + 5;
  std::vector<T> A(M * lda), buffer(K * 7 + N + 16), C(M * ldc, T(-7)), B(K * N), Cref(M * N);
  for (auto& v : A) v = T(rng.uniform(-1.0, 1.0));
  for (auto& v : buffer) v = T(rng.uniform(-1.0, 1.0));
  std::vector<const T*> lines(K);
  for (std::size_t k = 0; k < K; ++k) {
    lines[k] = buffer.data() + (k * 7) % (K * 7 + 1) + (k % 3);  // unaligned, overlapping
    for (std::size_t j = 0; j < N; ++j) B[k * N + j] = lines[k][j];
  }
  gemm_skinny_lines<T>(M, N, K, A.data(), lda, lines.data(), C.data(), ldc);
  gemm_reference<T>(false, false, M, N, K, T(1), A.data(), lda, B.data(), N, T(0), Cref.data(), N);
  double err = 0;
  for (std::size_t i = 0; i < M; ++i) {
    for (std::size_t j = 0; j < N; ++j)
      err = std::max(err, std::abs(double(C[i * ldc + j]) - double(Cref[i * N + j])));
    for (std::size_t j = N; j < ldc; ++j)  // past the N columns nothing is written
      if (C[i * ldc + j] != T(-7)) return 1e9;
  }
  return err / double(K == 0 ? 1 : K);
}

}  // namespace

TEMPLATE_TEST_CASE("gemm_skinny: matches the reference for 1..8 rows and ragged widths", "[tensor]",
                   float, double) {
  Rng rng(11);
  const double tol = std::is_same<TestType, float>::value ? 1e-6 : 1e-14;
  constexpr std::size_t W = simd::width<TestType>;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (std::size_t M = 1; M <= kSkinnyMaxRows; ++M)
      // The sizes first chosen for AVX-512 floats, and the same edges in units of this
      // build's vector width W (blocks are NV * W wide, NV <= 8).
      for (std::size_t N : {std::size_t(1), std::size_t(7), std::size_t(16), std::size_t(17),
                            std::size_t(95), std::size_t(96), std::size_t(129), std::size_t(200),
                            std::size_t(2049), W - 1, W + 1, 3 * W - 1, 8 * W - 1, 8 * W + 1})
        for (std::size_t K : {0, 1, 5, 36, 300}) {
          INFO("threads " << threads << " M " << M << " N " << N << " K " << K);
          CHECK(skinny_error<TestType>(M, N, K, rng) < tol);
        }
  }
  set_num_threads(0);
}

TEST_CASE("gemm_skinny: refuses more rows than it handles", "[tensor]") {
  std::vector<float> A(9 * 4), C(9 * 4), row(4);
  std::vector<const float*> lines(4, row.data());
  CHECK_THROWS_WITH(gemm_skinny_lines<float>(9, 4, 4, A.data(), 4, lines.data(), C.data(), 4),
                    Catch::Contains("M = 9"));
}
