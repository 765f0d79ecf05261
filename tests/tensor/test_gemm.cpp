// tests/tensor/test_gemm.cpp — fz::gemm against a naive triple loop (many shapes, both
// transposes, alpha/beta, sizes that are not multiples of the register tile, leading
// dimensions larger than the row length), and fz::matmul on Tensors.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tensor/gemm.hpp"
#include "tensor/gemm_dots.hpp"
#include "tensor/matmul.hpp"
#include "tensor/parallel.hpp"
#include "tensor/random.hpp"

using namespace fz;

namespace {

// n numbers uniform in [-1, 1), as the flat buffer the GEMM kernels take.
template <typename T>
std::vector<T> random_vector(std::size_t n, Rng& rng) {
  return rng.uniform<T>({n}, T(-1), T(1)).to_vector();
}

// Max |C - C_ref| relative to the largest magnitude the dot products could reach.
template <typename T>
double gemm_error(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, T beta,
                  std::size_t pad, Rng& rng, bool parallel = true) {
  const std::size_t lda = (ta ? M : K) + pad;
  const std::size_t ldb = (tb ? K : N) + pad;
  const std::size_t ldc = N + pad;
  const auto A = random_vector<T>((ta ? K : M) * lda, rng);
  const auto B = random_vector<T>((tb ? N : K) * ldb, rng);
  auto C = random_vector<T>(M * ldc, rng);
  if (beta == T(0))  // beta = 0 must ignore whatever C holds, even NaN
    for (std::size_t i = 0; i < M; ++i) C[i * ldc] = std::nan("");
  auto Cref = C;
  gemm<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc, parallel);
  gemm_reference<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, Cref.data(), ldc);
  double err = 0;
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < ldc; ++j) {
      const double d = std::abs(double(C[i * ldc + j]) - double(Cref[i * ldc + j]));
      if (!(d <= err)) err = d;  // NaN propagates as a failure
    }
  return err / (std::abs(double(alpha)) * double(K) + std::abs(double(beta)) + 1.0);
}

}  // namespace

TEST_CASE("gemm: matches the triple loop over shapes, transposes, alpha and beta", "[tensor][gemm]") {
  Rng rng(42);
  const std::size_t sizes[] = {1, 2, 5, 12, 17, 31, 33, 47, 64, 100};
  int checked = 0;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (std::size_t M : sizes)
        for (std::size_t N : {1ul, 7ul, 32ul, 45ul, 97ul})
          for (std::size_t K : {1ul, 3ul, 16ul, 37ul}) {
            const float alpha = (checked % 3 == 0) ? 1.0f : -0.75f;
            const float beta = (checked % 4 == 0) ? 0.0f : (checked % 4 == 1 ? 1.0f : 0.5f);
            const std::size_t pad = checked % 2 ? 3 : 0;
            INFO("ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K
                       << " alpha=" << alpha << " beta=" << beta << " pad=" << pad);
            REQUIRE(gemm_error<float>(ta, tb, M, N, K, alpha, beta, pad, rng) < 1e-6);
            ++checked;
          }
  REQUIRE(checked == 800);
}

TEST_CASE("gemm: large blocked products (several K and N blocks), float and double", "[tensor][gemm]") {
  Rng rng(7);
  struct Case { std::size_t M, N, K; };
  // Sizes past KC (K blocks accumulate), past NC (several B blocks) and past MC.
  const Case cases[] = {{140, 530, 270}, {61, 1041, 65}, {517, 70, 300}, {100, 100, 1100}};
  for (const Case& c : cases)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("M=" << c.M << " N=" << c.N << " K=" << c.K << " ta=" << ta << " tb=" << tb);
        REQUIRE(gemm_error<float>(ta, tb, c.M, c.N, c.K, 1.5f, 0.25f, 1, rng) < 2e-6);
        REQUIRE(gemm_error<double>(ta, tb, c.M, c.N, c.K, -1.0, 0.0, 0, rng) < 1e-13);
      }
}

TEST_CASE("gemm: serial and threaded runs agree with the reference", "[tensor][gemm]") {
  Rng rng(3);
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    INFO("threads=" << t);
    REQUIRE(gemm_error<float>(false, false, 257, 190, 129, 1.0f, 0.0f, 0, rng) < 1e-6);
    REQUIRE(gemm_error<float>(true, true, 140, 333, 100, 1.0f, 1.0f, 2, rng) < 1e-6);
    REQUIRE(gemm_error<double>(false, true, 97, 111, 300, 2.0, 0.5, 0, rng, false) < 1e-13);
  }
  set_num_threads(0);  // back to TBB's default
}

TEST_CASE("gemm: K = 0 scales C by beta; empty M or N is a no-op", "[tensor][gemm]") {
  std::vector<double> C = {1, 2, 3, 4};
  gemm<double>(false, false, 2, 2, 0, 1.0, nullptr, 1, nullptr, 2, 0.5, C.data(), 2);
  REQUIRE(C == std::vector<double>{0.5, 1, 1.5, 2});
  gemm<double>(false, false, 2, 2, 0, 1.0, nullptr, 1, nullptr, 2, 0.0, C.data(), 2);
  REQUIRE(C == std::vector<double>{0, 0, 0, 0});
  gemm<double>(false, false, 0, 2, 3, 1.0, nullptr, 3, nullptr, 2, 0.0, nullptr, 2);
}

TEST_CASE("matmul: 2-D products with transpose flags", "[tensor][gemm]") {
  Tensor64 a({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor64 b({3, 2}, {7, 8, 9, 10, 11, 12});
  Tensor64 c = matmul(a, b);
  REQUIRE(c.shape() == Shape{2, 2});
  REQUIRE(c.to_vector() == std::vector<double>{58, 64, 139, 154});
  // a^T (3x2) @ a (2x3) = 3x3
  Tensor64 ata = matmul(a, a, true, false);
  REQUIRE(ata.shape() == Shape{3, 3});
  REQUIRE(ata.at({0, 0}) == 17.0);
  REQUIRE(ata.at({1, 2}) == 2 * 3 + 5 * 6);
  // a @ a^T (2x2)
  Tensor64 aat = matmul(a, a, false, true);
  REQUIRE(aat.to_vector() == std::vector<double>{14, 32, 32, 77});
  REQUIRE_THROWS_AS(matmul(a, a), std::invalid_argument);
  REQUIRE_THROWS_WITH(matmul(a, a), Catch::Contains("(2, 3)"));
}

TEST_CASE("matmul: batched 3-D products and batch broadcasting", "[tensor][gemm]") {
  Rng rng(11);
  const std::size_t Bt = 3, M = 4, K = 5, N = 6;
  Tensor32 a({Bt, M, K}, random_vector<float>(Bt * M * K, rng));
  Tensor32 b({Bt, K, N}, random_vector<float>(Bt * K * N, rng));
  Tensor32 w({K, N}, random_vector<float>(K * N, rng));
  Tensor32 w1 = w.reshape({1, K, N});
  Tensor32 c = matmul(a, b);
  Tensor32 cw = matmul(a, w);
  Tensor32 cw1 = matmul(a, w1);
  REQUIRE(c.shape() == Shape{Bt, M, N});
  REQUIRE(cw.shape() == Shape{Bt, M, N});
  for (std::size_t p = 0; p < Bt; ++p)
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j) {
        double s = 0, sw = 0;
        for (std::size_t k = 0; k < K; ++k) {
          s += a.at({p, i, k}) * b.at({p, k, j});
          sw += a.at({p, i, k}) * w.at({k, j});
        }
        REQUIRE(c.at({p, i, j}) == Approx(s).margin(1e-5));
        REQUIRE(cw.at({p, i, j}) == Approx(sw).margin(1e-5));
        REQUIRE(cw1.at({p, i, j}) == cw.at({p, i, j}));
      }
  // A 2-D left operand broadcasts too: (M, K) @ (B, K, N) -> (B, M, N), and transposes apply
  // to the last two axes: b^T is (B, N, K).
  Tensor32 a0({M, K}, random_vector<float>(M * K, rng));
  Tensor32 c0 = matmul(a0, b);
  Tensor32 bt = matmul(b, a0, true, true);  // (B, N, M) = b^T a0^T = (a0 b)^T
  REQUIRE(bt.shape() == Shape{Bt, N, M});
  for (std::size_t p = 0; p < Bt; ++p)
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j) REQUIRE(bt.at({p, j, i}) == Approx(c0.at({p, i, j})).margin(1e-5));
  Tensor32 bad({2, K, N});
  REQUIRE_THROWS_AS(matmul(a, bad), std::invalid_argument);
}

TEST_CASE("gemm_lines: row and column pointers give the same product as a strided B",
          "[tensor][gemm]") {
  Rng rng(7);
  // Row counts 1..13 cover the 4-, 8- and 12-row tiles; K up to 600 crosses a K block.
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (std::size_t M : {1ul, 3ul, 4ul, 6ul, 8ul, 11ul, 13ul, 40ul})
      for (std::size_t N : {5ul, 33ul, 130ul})
        for (std::size_t K : {9ul, 70ul, 600ul})
          for (bool columns : {false, true}) {
            const std::size_t ldb = (columns ? K : N) + 3;  // lines live inside one buffer
            const auto A = random_vector<float>(M * K, rng);
            const auto B = random_vector<float>((columns ? N : K) * ldb, rng);
            std::vector<const float*> lines(columns ? N : K);
            // Lines in reverse storage order: gemm_lines must follow the pointers, not assume
            // a stride.
            for (std::size_t i = 0; i < lines.size(); ++i)
              lines[i] = B.data() + (lines.size() - 1 - i) * ldb;
            std::vector<float> Bdense((columns ? N : K) * ldb);
            for (std::size_t i = 0; i < lines.size(); ++i)
              std::copy(lines[i], lines[i] + ldb, Bdense.begin() + i * ldb);
            std::vector<float> C(M * N), Cref(M * N);
            gemm_lines<float>(false, M, N, K, 1.5f, A.data(), K, lines.data(), columns, 0.f,
                              C.data(), N);
            gemm_reference<float>(false, columns, M, N, K, 1.5f, A.data(), K, Bdense.data(), ldb,
                                  0.f, Cref.data(), N);
            double err = 0;
            for (std::size_t i = 0; i < C.size(); ++i)
              err = std::max(err, std::abs(double(C[i]) - double(Cref[i])));
            INFO("M " << M << " N " << N << " K " << K << " columns " << columns);
            REQUIRE(err <= 1e-5 * double(K));
          }
  }
  set_num_threads(0);
}

TEST_CASE("gemm_dots: tiled dot products equal the triple loop at every edge size",
          "[tensor][gemm]") {
  Rng rng(11);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (std::size_t M : {1ul, 2ul, 3ul, 4ul, 5ul, 9ul})
      for (std::size_t N : {1ul, 3ul, 4ul, 7ul, 18ul})
        for (std::size_t K : {1ul, 15ul, 16ul, 17ul, 300ul, 2500ul}) {
          const std::size_t lda = K + 2;
          const auto A = random_vector<double>(M * lda, rng);
          const auto B = random_vector<double>(N * (K + 1), rng);
          std::vector<const double*> lines(N);
          for (std::size_t j = 0; j < N; ++j) lines[j] = B.data() + (N - 1 - j) * (K + 1);
          std::vector<double> C(M * (N + 1), -7.0);
          gemm_dots<double>(M, N, K, A.data(), lda, lines.data(), C.data(), N + 1);
          for (std::size_t i = 0; i < M; ++i)
            for (std::size_t j = 0; j < N; ++j) {
              double s = 0;
              for (std::size_t k = 0; k < K; ++k) s += A[i * lda + k] * lines[j][k];
              INFO("M " << M << " N " << N << " K " << K << " i " << i << " j " << j);
              REQUIRE(std::abs(C[i * (N + 1) + j] - s) <= 1e-12 * double(K));
            }
          for (std::size_t i = 0; i < M; ++i) REQUIRE(C[i * (N + 1) + N] == -7.0);  // untouched
        }
  }
  set_num_threads(0);
}

TEST_CASE("gemm: thin products (K or N of at most 4, the toy flows' layers) match the triple loop",
          "[tensor][gemm]") {
  Rng rng(3);
  int checked = 0;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (std::size_t M : {2ul, 77ul, 512ul}) {
        for (std::size_t thin : {1ul, 2ul, 3ul, 4ul})
          for (std::size_t wide : {64ul, 101ul}) {
            const float alpha = checked % 2 ? 1.0f : -0.5f;
            const float beta = checked % 3 == 0 ? 0.0f : 0.5f;
            INFO("ta=" << ta << " tb=" << tb << " M=" << M << " thin=" << thin << " wide=" << wide);
            REQUIRE(gemm_error<float>(ta, tb, M, thin, wide, alpha, beta, 1, rng) < 1e-6);  // N thin
            REQUIRE(gemm_error<float>(ta, tb, M, wide, thin, alpha, beta, 0, rng) < 1e-6);  // K thin
            ++checked;
          }
      }
  REQUIRE(checked == 96);
}

TEST_CASE("gemm: L2-sized products read in place (the toy flows' 512 x 64 x 64 layers) match "
          "the triple loop", "[tensor][gemm]") {
  // Direct path: A read in place (row-major or transposed), B in place when row-major with
  // whole 2W-wide column blocks, otherwise packed once; the last partial sliver of A packed.
  Rng rng(5);
  int checked = 0;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (std::size_t M : {12ul, 13ul, 100ul, 512ul})
        for (std::size_t N : {32ul, 45ul, 64ul, 96ul})
          for (std::size_t K : {5ul, 64ul, 300ul, 512ul}) {
            const float alpha = checked % 3 == 0 ? 1.0f : -0.75f;
            const float beta = checked % 4 == 0 ? 0.0f : (checked % 4 == 1 ? 1.0f : 0.5f);
            const std::size_t pad = checked % 2 ? 5 : 0;
            INFO("ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K
                       << " alpha=" << alpha << " beta=" << beta << " pad=" << pad);
            REQUIRE(gemm_error<float>(ta, tb, M, N, K, alpha, beta, pad, rng) < 2e-6);
            ++checked;
          }
  REQUIRE(checked == 256);
  // Double: W = 8, NR = 16; the linear layer's three products with beta 0 and 1.
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (double beta : {0.0, 1.0}) {
        INFO("double ta=" << ta << " tb=" << tb << " beta=" << beta);
        REQUIRE(gemm_error<double>(ta, tb, 512, 64, 64, 1.0, beta, 0, rng) < 1e-13);
        REQUIRE(gemm_error<double>(ta, tb, 64, 64, 512, 1.0, beta, 1, rng) < 1e-13);
        REQUIRE(gemm_error<double>(ta, tb, 37, 48, 20, -2.0, beta, 3, rng) < 1e-13);
      }
}

TEST_CASE("gemm: products with at most 4 rows (the 2-row weight gradient G^T x) match the "
          "triple loop", "[tensor][gemm]") {
  Rng rng(6);
  int checked = 0;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (std::size_t M : {1ul, 2ul, 3ul, 4ul})
        for (std::size_t N : {64ul, 100ul, 128ul, 200ul})
          for (std::size_t K : {7ul, 512ul}) {
            const float alpha = checked % 2 ? 1.0f : -0.5f;
            const float beta = checked % 3 == 0 ? 0.0f : (checked % 3 == 1 ? 1.0f : 0.5f);
            const std::size_t pad = checked % 2 ? 2 : 0;
            INFO("ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K);
            REQUIRE(gemm_error<float>(ta, tb, M, N, K, alpha, beta, pad, rng) < 1e-6);
            REQUIRE(gemm_error<double>(ta, tb, M, N, K, double(alpha), double(beta), pad, rng) <
                    1e-13);
            ++checked;
          }
  REQUIRE(checked == 128);
}
