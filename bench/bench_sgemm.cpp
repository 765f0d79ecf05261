// bench/bench_sgemm.cpp — single-precision GEMM throughput: fz::gemm against OpenBLAS
// (cblas_sgemm) on square n x n products, at 1 and 2 threads. A program, not a test.
//
// Output: tab-separated lines  <workload> <threads> <implementation> <value> <unit>, e.g.
//   sgemm_n512  1  flowzoo  150.2  GFLOP/s
// (from the median time over repeated runs after a warm-up; the two implementations run
// alternately so both see the same load), which bench/run_kernels.sh turns into a table.
// Usage: bench_sgemm [n ...]   (default 256 512 1024 2048)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <utility>
#include <vector>

#include <cblas.h>

#include "tensor/gemm.hpp"
#include "tensor/parallel.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Runs f and g alternately (so both see the same load on a shared machine) and returns
// their median wall-clock seconds.
template <typename F, typename G>
std::pair<double, double> median_seconds(F&& f, G&& g, double budget_s) {
  f();  // warm-up (packing buffers, thread pools, page faults)
  g();
  std::vector<double> tf, tg;
  const auto start = Clock::now();
  while (tf.size() < 5 || (tf.size() < 200 &&
                           std::chrono::duration<double>(Clock::now() - start).count() < budget_s)) {
    auto t0 = Clock::now();
    f();
    tf.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    t0 = Clock::now();
    g();
    tg.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(tf.begin(), tf.end());
  std::sort(tg.begin(), tg.end());
  return {tf[tf.size() / 2], tg[tg.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes = {256, 512, 1024, 2048};
  if (argc > 1) {
    sizes.clear();
    for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoul(argv[i], nullptr, 10));
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (std::size_t n : sizes) {
    std::vector<float> A(n * n), B(n * n), C(n * n), Cref(n * n);
    for (auto& v : A) v = dist(rng);
    for (auto& v : B) v = dist(rng);
    const double flops = 2.0 * double(n) * double(n) * double(n);
    const double budget = 1.0;
    for (int threads : {1, 2}) {
      fz::set_num_threads(threads);
      openblas_set_num_threads(threads);
      const auto [t_fz, t_ob] = median_seconds(
          [&] {
            fz::gemm<float>(false, false, n, n, n, 1.f, A.data(), n, B.data(), n, 0.f, C.data(), n);
          },
          [&] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.f,
                        A.data(), int(n), B.data(), int(n), 0.f, Cref.data(), int(n));
          },
          budget);
      double err = 0;
      for (std::size_t i = 0; i < n * n; ++i) err = std::max(err, double(std::abs(C[i] - Cref[i])));
      if (err > 1e-3 * std::sqrt(double(n))) {
        std::fprintf(stderr, "bench_sgemm: n=%zu result differs from OpenBLAS by %g\n", n, err);
        return 1;
      }
      std::printf("sgemm_n%zu\t%d\tflowzoo\t%.1f\tGFLOP/s\n", n, threads, flops / t_fz * 1e-9);
      std::printf("sgemm_n%zu\t%d\topenblas\t%.1f\tGFLOP/s\n", n, threads, flops / t_ob * 1e-9);
      std::fflush(stdout);
    }
  }
  return 0;
}
