// bench/bench_conv2d.cpp — conv2d 3x3, stride 1, padding 1, N=64, C_in = C_out = 128, 14x14
// (the "kernels" workload of BENCHMARKS.md): forward (with bias), backward w.r.t. the input,
// backward w.r.t. weight and bias, each a median over >= 20 runs after warm-up, at 1 and 2
// threads. bench/torch_conv2d.py times the same passes in PyTorch. A program, not a test.
#include <cstdlib>
#include <random>

#include "bench/bench_common.hpp"
#include "tensor/conv2d.hpp"
#include "tensor/parallel.hpp"

int main(int argc, char** argv) {
  using fz::Tensor32;
  const std::size_t N = 64, C = 128, H = 14, W = 14, K = 3;
  const int max_threads = argc > 1 ? std::atoi(argv[1]) : 2;
  std::mt19937 rng(0);
  std::normal_distribution<float> dist(0.f, 1.f);
  auto randn = [&](const fz::Shape& s) {
    Tensor32 t = Tensor32::empty(s);
    for (auto& v : t) v = dist(rng);
    return t;
  };
  const Tensor32 x = randn({N, C, H, W});
  const Tensor32 w = randn({C, C, K, K});
  const Tensor32 b = randn({C});
  const Tensor32 dy = randn({N, C, H, W});
  for (int threads = 1; threads <= max_threads; ++threads) {
    fz::set_num_threads(threads);
    const double fwd = fz::bench::median_ms([&] { (void)fz::conv2d(x, w, b, 1, 1); });
    const double bwd_in =
        fz::bench::median_ms([&] { (void)fz::conv2d_backward_input(dy, w, x.shape(), 1, 1); });
    const double bwd_w = fz::bench::median_ms([&] {
      (void)fz::conv2d_backward_weight(dy, x, w.shape(), 1, 1);
      (void)fz::conv2d_backward_bias(dy);
    });
    fz::bench::report("conv2d_forward", threads, "flowzoo", fwd, "ms");
    fz::bench::report("conv2d_backward_input", threads, "flowzoo", bwd_in, "ms");
    fz::bench::report("conv2d_backward_weight", threads, "flowzoo", bwd_w, "ms");
    fz::bench::report("conv2d_total", threads, "flowzoo", fwd + bwd_in + bwd_w, "ms");
  }
  return 0;
}
