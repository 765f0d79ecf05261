// tensor/channel_affine.cpp — the per-channel affine (+ ReLU) kernels: one SIMD map per
// (sample, channel) row forward; backward, one pass per row giving dL/dx and the row's partial
// sums for dL/dscale and dL/dshift.

// GCC 12 reports false -W(maybe-)uninitialized warnings inside its own AVX-512 intrinsics
// (GCC PR105593) where xsimd inlines them; the pragma must precede every include (see
// tensor/elementwise.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "tensor/channel_affine.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/simd.hpp"

namespace fz {

namespace {

// (B, C, inner) view of a (B, C, ...) shape.
struct ChannelGeom {
  std::size_t batch, channels, inner;
  std::size_t rows() const { return batch * channels; }
};

ChannelGeom channel_geom(const Shape& s) {
  return {s[0], s[1], s[0] * s[1] == 0 ? 0 : shape_numel(s) / (s[0] * s[1])};
}

// Rows of `inner` elements per parallel chunk: about kParallelGrain elements each.
std::size_t row_grain(std::size_t inner) {
  return std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, inner));
}

// sum_i a[i] * b[i], two SIMD accumulators.
template <typename T>
T dot_range(const T* a, const T* b, std::size_t n) {
  using B = simd::batch<T>;
  constexpr std::size_t W = simd::width<T>;
  B s0(T(0)), s1(T(0));
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
    s1 = xsimd::fma(B::load_unaligned(a + i + W), B::load_unaligned(b + i + W), s1);
  }
  for (; i + W <= n; i += W) s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
  if (i < n) s1 = xsimd::fma(simd::load_partial(a + i, n - i), simd::load_partial(b + i, n - i), s1);
  return xsimd::hadd(s0 + s1);
}

// Per-(sample, channel) partial sums -> per-channel totals, summed over the batch in a fixed
// order (deterministic for any thread count).
template <typename T>
Tensor<T> per_channel(const std::vector<T>& rows, const ChannelGeom& g) {
  Tensor<T> out({g.channels});
  for (std::size_t b = 0; b < g.batch; ++b)
    for (std::size_t c = 0; c < g.channels; ++c) out[c] += rows[b * g.channels + c];
  return out;
}

// The affine map's backward: dL/dx = G scale_c, and per row sum G x and sum G.
template <typename T>
void affine_backward_rows(const T* gp, const T* xp, const T* sp, T* gxp, const ChannelGeom& g,
                          ChannelAffineGradsWanted wanted, std::vector<T>& row_gx,
                          std::vector<T>& row_g) {
  parallel_for(g.rows(), row_grain(g.inner), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const std::size_t o = r * g.inner;
      if (wanted.input) {
        const simd::batch<T> s(sp[r % g.channels]);
        simd::map_range(o, o + g.inner, gxp, [&](const simd::batch<T>& v) { return v * s; }, gp);
      }
      if (wanted.scale) row_gx[r] = dot_range(gp + o, xp + o, g.inner);
      if (wanted.shift) row_g[r] = simd::sum_range(gp + o, g.inner);
    }
  });
}

// The affine map + ReLU's backward, in one pass per row: with m = [x scale_c + shift_c > 0]
// (recomputed with the forward's fma: the same mask bit for bit), dL/dx = G m scale_c, and per
// row sum G m x and sum G m.
template <typename T>
void affine_relu_backward_rows(const T* gp, const T* xp, const T* sp, const T* tp, T* gxp,
                               const ChannelGeom& g, ChannelAffineGradsWanted wanted,
                               std::vector<T>& row_gx, std::vector<T>& row_g) {
  parallel_for(g.rows(), row_grain(g.inner), [&](std::size_t r0, std::size_t r1) {
    using B = simd::batch<T>;
    constexpr std::size_t W = simd::width<T>;
    const B zero(T(0));
    for (std::size_t r = r0; r < r1; ++r) {
      const B s(sp[r % g.channels]), t(tp[r % g.channels]);
      const std::size_t o = r * g.inner, end = o + g.inner;
      B acc_gx(T(0)), acc_g(T(0));
      std::size_t i = o;
      auto step = [&](const B& gv, const B& xv) {
        const B gm = xsimd::select(xsimd::fma(xv, s, t) > zero, gv, zero);  // the ReLU's mask
        acc_gx = xsimd::fma(gm, xv, acc_gx);
        acc_g += gm;
        return gm * s;
      };
      for (; i + W <= end; i += W) {
        const B d = step(B::load_unaligned(gp + i), B::load_unaligned(xp + i));
        if (wanted.input) d.store_unaligned(gxp + i);
      }
      if (i < end) {
        const std::size_t k = end - i;
        const B d = step(simd::load_partial(gp + i, k), simd::load_partial(xp + i, k));
        if (wanted.input) simd::store_partial(d, gxp + i, k);
      }
      alignas(64) T lanes_gx[W], lanes_g[W];
      acc_gx.store_aligned(lanes_gx);
      acc_g.store_aligned(lanes_g);
      T sgx = T(0), sg = T(0);
      for (std::size_t l = 0; l < W; ++l) {
        sgx += lanes_gx[l];
        sg += lanes_g[l];
      }
      row_gx[r] = sgx;
      row_g[r] = sg;
    }
  });
}

}  // namespace

void check_channel_affine_shapes(const Shape& x, const Shape& scale, const Shape& shift,
                                 const char* op) {
  if (scale.size() != 1 || shift != scale)
    throw std::invalid_argument(std::string(op) + ": scale and shift must both be (C), got " +
                                shape_str(scale) + " and " + shape_str(shift));
  if (x.size() < 2 || x[1] != scale[0])
    throw std::invalid_argument(std::string(op) + ": expected an input (B, " +
                                std::to_string(scale[0]) + ", ...), got shape " + shape_str(x));
}

template <typename T>
Tensor<T> channel_affine_forward(const Tensor<T>& x, const Tensor<T>& scale,
                                 const Tensor<T>& shift, const ChannelAffineOptions& options) {
  check_channel_affine_shapes(x.shape(), scale.shape(), shift.shape(), "channel_affine");
  const ChannelGeom g = channel_geom(x.shape());
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const T* xp = x.data();
  const T* sp = scale.data();
  const T* tp = shift.data();
  T* yp = y.data();
  const bool relu = options.relu;
  parallel_for(g.rows(), row_grain(g.inner), [&](std::size_t r0, std::size_t r1) {
    const simd::batch<T> zero(T(0));
    for (std::size_t r = r0; r < r1; ++r) {
      const simd::batch<T> s(sp[r % g.channels]), t(tp[r % g.channels]);
      const std::size_t o = r * g.inner;
      if (relu)
        simd::map_range(o, o + g.inner, yp,
                        [&](const simd::batch<T>& v) { return xsimd::max(xsimd::fma(v, s, t), zero); }, xp);
      else
        simd::map_range(o, o + g.inner, yp, [&](const simd::batch<T>& v) { return xsimd::fma(v, s, t); }, xp);
    }
  });
  return y;
}

template <typename T>
ChannelAffineGrads<T> channel_affine_backward(const Tensor<T>& grad_y, const Tensor<T>& x,
                                              const Tensor<T>& scale, const Tensor<T>& shift,
                                              const ChannelAffineOptions& options,
                                              ChannelAffineGradsWanted wanted) {
  check_channel_affine_shapes(x.shape(), scale.shape(), shift.shape(), "channel_affine_backward");
  if (grad_y.shape() != x.shape())
    throw std::invalid_argument("channel_affine_backward: gradient " + shape_str(grad_y.shape()) +
                                " does not match the input " + shape_str(x.shape()));
  const ChannelGeom g = channel_geom(x.shape());
  ChannelAffineGrads<T> out;
  if (wanted.input) out.input = Tensor<T>::empty(x.shape());
  // Per-row partial sums, combined over the batch afterwards in a fixed order (deterministic).
  std::vector<T> row_gx(wanted.scale || options.relu ? g.rows() : 0);
  std::vector<T> row_g(wanted.shift || options.relu ? g.rows() : 0);
  if (options.relu)
    affine_relu_backward_rows(grad_y.data(), x.data(), scale.data(), shift.data(),
                              out.input.data(), g, wanted, row_gx, row_g);
  else
    affine_backward_rows(grad_y.data(), x.data(), scale.data(), out.input.data(), g, wanted,
                         row_gx, row_g);
  if (wanted.scale) out.scale = per_channel(row_gx, g);
  if (wanted.shift) out.shift = per_channel(row_g, g);
  return out;
}

template Tensor<float> channel_affine_forward(const Tensor<float>&, const Tensor<float>&,
                                              const Tensor<float>&, const ChannelAffineOptions&);
template Tensor<double> channel_affine_forward(const Tensor<double>&, const Tensor<double>&,
                                               const Tensor<double>&, const ChannelAffineOptions&);
template ChannelAffineGrads<float> channel_affine_backward(const Tensor<float>&,
                                                           const Tensor<float>&,
                                                           const Tensor<float>&,
                                                           const Tensor<float>&,
                                                           const ChannelAffineOptions&,
                                                           ChannelAffineGradsWanted);
template ChannelAffineGrads<double> channel_affine_backward(const Tensor<double>&,
                                                            const Tensor<double>&,
                                                            const Tensor<double>&,
                                                            const Tensor<double>&,
                                                            const ChannelAffineOptions&,
                                                            ChannelAffineGradsWanted);

}  // namespace fz
