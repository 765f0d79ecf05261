// tests/tensor/float_reference.hpp — what the float32 kernel tests compare against: direct
// loop convolutions (forward, input gradient, weight gradient) in double, written with no
// GEMM, no layout and no SIMD, and the shape edges of the SIMD kernels derived from the vector
// width this build compiles for.
//
// Error bounds. A float32 dot product of K terms, summed in any order (blocked, SIMD lanes,
// FMA or not), differs from the exact sum by at most gamma_K * sum_k |a_k b_k| with
// gamma_K = K u / (1 - K u), u = 2^-24 (Higham, "Accuracy and Stability of Numerical
// Algorithms", 3.1). With eps = FLT_EPSILON = 2u the tests allow K * eps * sum |a_k b_k|:
// twice the worst case, so any correct kernel passes for any summation order. A dropped,
// doubled or misplaced term is an error of one |a_k b_k| (~ sum / K on average), against an
// allowance of K eps sum: it shows as long as K^2 << 1/eps (~8e6). For the largest K here
// (1568, uniform inputs) a single dropped term of a random size exceeds the allowance at about
// 3 elements in 4 (more at smaller K), so a kernel bug that touches every row or tile (a tail,
// a chunk boundary, a lane) cannot pass. Applying the same linear maps to |a| and |b| gives
// sum |a_k b_k| per output, so bounds are per element.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>

#include <catch2/catch.hpp>

#include "tensor/simd.hpp"
#include "tensor/tensor.hpp"
#include "tests/thread_count.hpp"

namespace fz::testing {

constexpr double kEpsF32 = FLT_EPSILON;

// Vector width of the build (16 floats with AVX-512, 8 with AVX2) and the few tile sizes the
// kernels derive from it: GEMM's micro-tile is MR x 2W (MR = 12 with 32 vector registers,
// 6 with 16). Test shapes are written in these units so every build hits its own edges.
constexpr std::size_t kW = simd::width<float>;
#if defined(__AVX512F__)
constexpr std::size_t kMR = 12;
#else
constexpr std::size_t kMR = 6;
#endif
constexpr std::size_t kNR = 2 * kW;

struct ConvGeom {
  std::size_t n, c, h, w, cout, k, stride = 1, pad = 0;
  std::size_t ho() const { return (h + 2 * pad - k) / stride + 1; }
  std::size_t wo() const { return (w + 2 * pad - k) / stride + 1; }
  Shape x_shape() const { return {n, c, h, w}; }
  Shape w_shape() const { return {cout, c, k, k}; }
  Shape y_shape() const { return {n, cout, ho(), wo()}; }
  std::size_t taps_per_output() const { return c * k * k; }   // K of the forward pass
  std::size_t taps_per_input() const { return cout * k * k; }  // K of the input gradient
  std::size_t positions() const { return n * ho() * wo(); }    // K of the weight gradient
};

// Calls f(x_index, w_index, y_index) for every (output, tap) that lands inside the input.
template <typename F>
void for_each_tap(const ConvGeom& g, F&& f) {
  const std::size_t Ho = g.ho(), Wo = g.wo();
  for (std::size_t n = 0; n < g.n; ++n)
    for (std::size_t o = 0; o < g.cout; ++o)
      for (std::size_t c = 0; c < g.c; ++c)
        for (std::size_t ki = 0; ki < g.k; ++ki)
          for (std::size_t kj = 0; kj < g.k; ++kj) {
            const std::size_t wi = ((o * g.c + c) * g.k + ki) * g.k + kj;
            for (std::size_t oh = 0; oh < Ho; ++oh) {
              const long ih = long(oh * g.stride + ki) - long(g.pad);
              if (ih < 0 || ih >= long(g.h)) continue;
              for (std::size_t ow = 0; ow < Wo; ++ow) {
                const long iw = long(ow * g.stride + kj) - long(g.pad);
                if (iw < 0 || iw >= long(g.w)) continue;
                f(((n * g.c + c) * g.h + std::size_t(ih)) * g.w + std::size_t(iw), wi,
                  ((n * g.cout + o) * Ho + oh) * Wo + ow);
              }
            }
          }
}

inline Tensor64 ref_conv(const Tensor64& x, const Tensor64& w, const ConvGeom& g) {
  Tensor64 y(g.y_shape());
  for_each_tap(g, [&](std::size_t xi, std::size_t wi, std::size_t yi) { y[yi] += w[wi] * x[xi]; });
  return y;
}

inline Tensor64 ref_conv_dx(const Tensor64& dy, const Tensor64& w, const ConvGeom& g) {
  Tensor64 dx(g.x_shape());
  for_each_tap(g, [&](std::size_t xi, std::size_t wi, std::size_t yi) { dx[xi] += w[wi] * dy[yi]; });
  return dx;
}

inline Tensor64 ref_conv_dw(const Tensor64& dy, const Tensor64& x, const ConvGeom& g) {
  Tensor64 dw(g.w_shape());
  for_each_tap(g, [&](std::size_t xi, std::size_t wi, std::size_t yi) { dw[wi] += x[xi] * dy[yi]; });
  return dw;
}

inline Tensor64 to64(const Tensor32& t) { return t.cast<double>(); }

inline Tensor64 abs64(const Tensor64& t) {
  Tensor64 out(t.shape());
  for (std::size_t i = 0; i < t.numel(); ++i) out[i] = std::abs(t[i]);
  return out;
}

// REQUIRE |got - ref| <= bound elementwise; on failure names the worst element and its ratio.
// Returns the largest |got - ref| / bound seen (how much of the allowance the kernel used).
inline double require_within(const Tensor32& got, const Tensor64& ref, const Tensor64& bound,
                             const std::string& what) {
  REQUIRE(got.shape() == ref.shape());
  REQUIRE(bound.shape() == ref.shape());
  double worst = 0;
  std::size_t at = 0;
  bool ok = true;
  for (std::size_t i = 0; i < ref.numel(); ++i) {
    const double err = std::abs(double(got[i]) - ref[i]);
    const double allowed = bound[i] + 1e-30;
    if (!(err <= allowed)) ok = false;  // NaN fails too
    const double ratio = err / allowed;
    if (!(ratio <= worst)) {
      worst = ratio;
      at = i;
    }
  }
  INFO(what << ": worst element " << at << " of " << ref.numel() << ": got " << got[at]
            << ", reference " << ref[at] << ", allowed error " << bound[at] << " (ratio "
            << worst << ")");
  REQUIRE(ok);
  return worst;
}

}  // namespace fz::testing
