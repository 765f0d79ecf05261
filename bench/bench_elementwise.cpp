// bench/bench_elementwise.cpp — elementwise exp, tanh, sigmoid over 4M floats and a sum over
// the last axis of a (4096, 1024) tensor (the "kernels" workload of BENCHMARKS.md); median
// ms over >= 20 runs after warm-up, at 1 and 2 threads. bench/torch_elementwise.py times the
// same calls in PyTorch. A program, not a test.
#include <cstdlib>
#include <random>

#include "bench/bench_common.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/parallel.hpp"
#include "tensor/reduce.hpp"

int main(int argc, char** argv) {
  using fz::Tensor32;
  const int max_threads = argc > 1 ? std::atoi(argv[1]) : 2;
  std::mt19937 rng(0);
  std::normal_distribution<float> dist(0.f, 1.f);
  auto randn = [&](const fz::Shape& s) {
    Tensor32 t = Tensor32::empty(s);
    for (auto& v : t) v = dist(rng);
    return t;
  };
  const Tensor32 x = randn({std::size_t(1) << 22});
  const Tensor32 m = randn({4096, 1024});
  for (int threads = 1; threads <= max_threads; ++threads) {
    fz::set_num_threads(threads);
    fz::bench::report("exp_4M", threads, "flowzoo", fz::bench::median_ms([&] { (void)fz::exp(x); }), "ms");
    fz::bench::report("tanh_4M", threads, "flowzoo", fz::bench::median_ms([&] { (void)fz::tanh(x); }), "ms");
    fz::bench::report("sigmoid_4M", threads, "flowzoo",
                      fz::bench::median_ms([&] { (void)fz::sigmoid(x); }), "ms");
    fz::bench::report("sum_lastaxis_4096x1024", threads, "flowzoo",
                      fz::bench::median_ms([&] { (void)fz::sum(m, -1); }), "ms");
  }
  return 0;
}
