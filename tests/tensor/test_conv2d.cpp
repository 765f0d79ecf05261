// tests/tensor/test_conv2d.cpp — conv2d forward and both backward passes against a naive
// direct convolution (random shapes, strides 1-2, padding 0-2, 1x1 / 3x3 / non-square
// kernels, non-square images), serial and threaded.
#include <catch2/catch.hpp>

#include <cmath>

#include "tensor/conv2d.hpp"
#include "tensor/parallel.hpp"
#include "tensor/random.hpp"
#include "tests/tensor_compare.hpp"

using namespace fz;
using fz::test::max_diff;

namespace {

struct Geom {
  std::size_t N, C, H, W, Cout, kh, kw, stride, pad;
  std::size_t Ho() const { return (H + 2 * pad - kh) / stride + 1; }
  std::size_t Wo() const { return (W + 2 * pad - kw) / stride + 1; }
};

// Calls f(n, o, c, oh, ow, ki, kj, ih, iw) for every (output pixel, tap) inside the input.
template <typename F>
void for_each_tap(const Geom& g, F&& f) {
  for (std::size_t n = 0; n < g.N; ++n)
    for (std::size_t o = 0; o < g.Cout; ++o)
      for (std::size_t oh = 0; oh < g.Ho(); ++oh)
        for (std::size_t ow = 0; ow < g.Wo(); ++ow)
          for (std::size_t c = 0; c < g.C; ++c)
            for (std::size_t ki = 0; ki < g.kh; ++ki)
              for (std::size_t kj = 0; kj < g.kw; ++kj) {
                const long ih = long(oh * g.stride + ki) - long(g.pad);
                const long iw = long(ow * g.stride + kj) - long(g.pad);
                if (ih < 0 || iw < 0 || ih >= long(g.H) || iw >= long(g.W)) continue;
                f(n, o, c, oh, ow, ki, kj, std::size_t(ih), std::size_t(iw));
              }
}

void check_against_direct(const Geom& g, Rng& rng) {
  INFO("N=" << g.N << " C=" << g.C << " H=" << g.H << " W=" << g.W << " Cout=" << g.Cout
            << " k=" << g.kh << "x" << g.kw << " stride=" << g.stride << " pad=" << g.pad);
  const Tensor64 x = rng.uniform<double>({g.N, g.C, g.H, g.W}, -1.0, 1.0);
  const Tensor64 w = rng.uniform<double>({g.Cout, g.C, g.kh, g.kw}, -1.0, 1.0);
  const Tensor64 b = rng.uniform<double>({g.Cout}, -1.0, 1.0);
  const Tensor64 dy = rng.uniform<double>({g.N, g.Cout, g.Ho(), g.Wo()}, -1.0, 1.0);

  Tensor64 y_ref({g.N, g.Cout, g.Ho(), g.Wo()}), dx_ref(x.shape()), dw_ref(w.shape()), db_ref({g.Cout});
  for (std::size_t n = 0; n < g.N; ++n)
    for (std::size_t o = 0; o < g.Cout; ++o)
      for (std::size_t p = 0; p < g.Ho() * g.Wo(); ++p) {
        y_ref[(n * g.Cout + o) * g.Ho() * g.Wo() + p] = b[o];
        db_ref[o] += dy[(n * g.Cout + o) * g.Ho() * g.Wo() + p];
      }
  for_each_tap(g, [&](std::size_t n, std::size_t o, std::size_t c, std::size_t oh, std::size_t ow,
                      std::size_t ki, std::size_t kj, std::size_t ih, std::size_t iw) {
    y_ref.at({n, o, oh, ow}) += w.at({o, c, ki, kj}) * x.at({n, c, ih, iw});
    dx_ref.at({n, c, ih, iw}) += w.at({o, c, ki, kj}) * dy.at({n, o, oh, ow});
    dw_ref.at({o, c, ki, kj}) += x.at({n, c, ih, iw}) * dy.at({n, o, oh, ow});
  });

  REQUIRE(conv2d_output_shape(x.shape(), w.shape(), g.stride, g.pad) == y_ref.shape());
  REQUIRE(max_diff(conv2d(x, w, b, g.stride, g.pad), y_ref) < 1e-12);
  REQUIRE(max_diff(conv2d_backward_input(dy, w, x.shape(), g.stride, g.pad), dx_ref) < 1e-12);
  REQUIRE(max_diff(conv2d_backward_weight(dy, x, w.shape(), g.stride, g.pad), dw_ref) < 1e-11);
  REQUIRE(max_diff(conv2d_backward_bias(dy), db_ref) < 1e-12);
  // The combined call autograd uses gives the same two gradients, and skips what is not asked.
  const Conv2dGrads<double> both = conv2d_backward(dy, x, w, g.stride, g.pad, ConvGradsWanted());
  REQUIRE(max_diff(both.input, dx_ref) < 1e-12);
  REQUIRE(max_diff(both.weight, dw_ref) < 1e-11);
  const Conv2dGrads<double> only_w = conv2d_backward(dy, x, w, g.stride, g.pad,
                                                   {/*input=*/false, /*weight=*/true});
  REQUIRE(!only_w.input.defined());
  REQUIRE(max_diff(only_w.weight, dw_ref) < 1e-11);
  // The training form: the forward pass keeps the input's layout and the backward pass reads
  // it instead of x (same results; x itself is not consulted for the weight gradient then).
  Tensor64 saved;
  REQUIRE(max_diff(conv2d(x, w, b, g.stride, g.pad, &saved), y_ref) < 1e-12);
  if (saved.defined()) {
    const Conv2dGrads<double> from_saved =
        conv2d_backward(dy, Tensor64::zeros(x.shape()), w, g.stride, g.pad, ConvGradsWanted(),
                        &saved);
    REQUIRE(max_diff(from_saved.input, dx_ref) < 1e-12);
    REQUIRE(max_diff(from_saved.weight, dw_ref) < 1e-11);
  }
  // Without bias the output is the bias-free sum.
  Tensor64 y_nb = conv2d(x, w, Tensor64(), g.stride, g.pad);
  REQUIRE(std::abs(y_nb[0] + b[0] - y_ref[0]) < 1e-12);
}

}  // namespace

TEST_CASE("conv2d: fixed shapes match the direct convolution", "[tensor][conv2d]") {
  Rng rng(5);
  const Geom cases[] = {
      {2, 3, 5, 5, 4, 3, 3, 1, 1},  // "same" 3x3
      {3, 2, 7, 6, 3, 3, 3, 2, 0},  // stride 2, no padding, non-square image
      {2, 4, 6, 9, 5, 1, 1, 1, 0},  // 1x1 stride 1: a "same" convolution (conv2d_same.cpp)
      {2, 4, 6, 9, 5, 1, 1, 2, 0},  // 1x1 stride 2
      {1, 2, 4, 4, 2, 1, 1, 1, 1},  // 1x1 with padding
      {2, 3, 5, 8, 2, 3, 1, 1, 2},  // non-square kernel 3x1, padding 2
      {2, 3, 9, 5, 3, 1, 3, 2, 1},  // non-square kernel 1x3, stride 2
      {4, 2, 3, 3, 3, 3, 3, 2, 2},  // padding 2 on a tiny image
  };
  for (const Geom& g : cases) check_against_direct(g, rng);
}

TEST_CASE("conv2d: random shapes, serial and threaded", "[tensor][conv2d]") {
  Rng rng(9);
  // Whole numbers in [lo, hi].
  const auto between = [&rng](std::size_t lo, std::size_t hi) { return lo + std::size_t(rng.below(hi - lo + 1)); };
  const auto small = [&] { return between(1, 4); };
  const auto img = [&] { return between(3, 11); };
  const auto k = [&] { return between(0, 2); };
  const auto s = [&] { return between(1, 2); };
  const auto p = [&] { return between(0, 2); };
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int trial = 0; trial < 12; ++trial) {
      Geom g{small(), small(), img(), img(), small(), 0, 0, s(), p()};
      const std::size_t ks[] = {1, 3, 3};
      g.kh = ks[k()];
      g.kw = trial % 3 == 0 ? ks[k()] : g.kh;
      if (g.H + 2 * g.pad < g.kh || g.W + 2 * g.pad < g.kw) continue;
      check_against_direct(g, rng);
    }
    // Large enough to take the parallel-over-batch path with two threads.
    check_against_direct({4, 8, 10, 12, 16, 3, 3, 1, 1}, rng);
    check_against_direct({3, 16, 9, 9, 8, 1, 1, 1, 0}, rng);
  }
  set_num_threads(0);
}

TEST_CASE("conv2d: same convolutions (the whole-batch plane path) at flow-model shapes",
          "[tensor][conv2d]") {
  Rng rng(21);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    check_against_direct({3, 64, 14, 14, 4, 3, 3, 1, 1}, rng);   // Glow's last conv: C_out 4
    check_against_direct({2, 2, 7, 7, 96, 3, 3, 1, 1}, rng);     // Glow's first conv: C_in 2
    check_against_direct({2, 40, 6, 5, 40, 1, 1, 1, 0}, rng);    // 1x1 as one GEMM
    check_against_direct({2, 6, 9, 11, 5, 5, 5, 1, 2}, rng);     // 5x5, padding 2
    check_against_direct({1, 3, 1, 1, 2, 3, 3, 1, 1}, rng);      // 1x1 image, 3x3 kernel
  }
  set_num_threads(0);
}

TEST_CASE("conv2d: float matches double", "[tensor][conv2d]") {
  Rng rng(13);
  const Tensor64 x = rng.uniform<double>({3, 5, 8, 7}, -1.0, 1.0);
  const Tensor64 w = rng.uniform<double>({6, 5, 3, 3}, -1.0, 1.0);
  const Tensor64 y = conv2d(x, w, Tensor64(), 1, 1);
  const Tensor32 y32 = conv2d(x.cast<float>(), w.cast<float>(), Tensor32(), 1, 1);
  for (std::size_t i = 0; i < y.numel(); ++i) REQUIRE(y32[i] == Approx(y[i]).margin(1e-4));
}

TEST_CASE("conv2d: shape errors name the shapes", "[tensor][conv2d]") {
  Tensor32 x({2, 3, 5, 5}), w({4, 2, 3, 3}), w_ok({4, 3, 3, 3});
  REQUIRE_THROWS_WITH(conv2d(x, w), Catch::Contains("(4, 2, 3, 3)"));
  REQUIRE_THROWS_AS(conv2d(Tensor32({3, 5, 5}), w_ok), std::invalid_argument);
  REQUIRE_THROWS_AS(conv2d(x, Tensor32({4, 3, 7, 7})), std::invalid_argument);
  REQUIRE_THROWS_AS(conv2d(x, w_ok, Tensor32({3})), std::invalid_argument);
  REQUIRE_THROWS_AS(conv2d(x, w_ok, Tensor32(), 0, 0), std::invalid_argument);
  REQUIRE_THROWS_AS(conv2d_backward_input(Tensor32({2, 4, 4, 4}), w_ok, x.shape(), 1, 0),
                    std::invalid_argument);
}
