// bench/bench_conv_shapes.cpp — every convolution shape of the glow-fmnist and realnvp-fmnist
// workloads, timed alone: forward, and backward (input + weight gradient, as autograd runs
// it), as the median CPU time of the calling thread at one thread. CPU time rather than wall
// time so that the numbers stay usable while something else runs on the machine; GFLOP/s
// counts the multiply-adds of the dense product (2 * N*H*W * C_out * C_in * k * k per pass).
// Usage: bench_conv_shapes [glow|realnvp|all]. A program for finding the slow shape, not a
// test.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

#include "tensor/conv2d.hpp"
#include "tensor/parallel.hpp"

namespace {

struct ConvShape {
  const char* model;
  std::size_t n, c, h, w, cout, k;
};

// From `flowzoo profile --by-shape` on the default presets (batch 64).
const ConvShape kShapes[] = {
    {"glow", 64, 128, 14, 14, 128, 1}, {"glow", 64, 128, 14, 14, 4, 3},
    {"glow", 64, 2, 14, 14, 128, 3},   {"glow", 64, 128, 7, 7, 128, 1},
    {"glow", 64, 128, 7, 7, 8, 3},     {"glow", 64, 4, 7, 7, 128, 3},
    {"realnvp", 64, 32, 28, 28, 32, 3}, {"realnvp", 64, 32, 14, 14, 32, 3},
    {"realnvp", 64, 32, 7, 7, 32, 3},   {"realnvp", 64, 32, 28, 28, 2, 3},
    {"realnvp", 64, 2, 28, 28, 32, 3},  {"realnvp", 64, 32, 14, 14, 4, 3},
};

double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

template <typename F>
double median_cpu_ms(F&& f, int runs = 15) {
  f();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const double t0 = cpu_ms();
    f();
    ms.push_back(cpu_ms() - t0);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const char* which = argc > 1 ? argv[1] : "all";
  fz::set_num_threads(1);
  std::mt19937 rng(0);
  std::normal_distribution<float> dist(0.f, 1.f);
  auto randn = [&](const fz::Shape& s) {
    fz::Tensor32 t = fz::Tensor32::empty(s);
    for (auto& v : t) v = dist(rng);
    return t;
  };
  std::printf("%-8s %-28s %10s %10s %10s %10s\n", "model", "shape", "fwd ms", "GFLOP/s",
              "bwd ms", "GFLOP/s");
  for (const ConvShape& s : kShapes) {
    if (std::strcmp(which, "all") != 0 && std::strcmp(which, s.model) != 0) continue;
    const fz::Tensor32 x = randn({s.n, s.c, s.h, s.w});
    const fz::Tensor32 w = randn({s.cout, s.c, s.k, s.k});
    const fz::Tensor32 dy = randn({s.n, s.cout, s.h, s.w});
    const std::size_t pad = (s.k - 1) / 2;
    const double fwd = median_cpu_ms([&] { (void)fz::conv2d(x, w, fz::Tensor32(), 1, pad); });
    const double bwd =
        median_cpu_ms([&] { (void)fz::conv2d_backward(dy, x, w, 1, pad, fz::ConvGradsWanted()); });
    const double gflop = 2e-9 * double(s.n * s.h * s.w * s.cout * s.c * s.k * s.k);
    char shape[64];
    std::snprintf(shape, sizeof shape, "%zux%zux%zu -> %zu k%zu", s.c, s.h, s.w, s.cout, s.k);
    std::printf("%-8s %-28s %10.3f %10.1f %10.3f %10.1f\n", s.model, shape, fwd, gflop / fwd * 1e3,
                bwd, 2 * gflop / bwd * 1e3);
  }
  return 0;
}
