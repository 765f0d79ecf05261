// tensor/conv2d_same_epilogue.hpp — the fused per-output-channel epilogue of a "same"
// convolution, y = act(s_o * z + t_o), and its gradient, row by row over any of the layouts an
// activation lives in (NCHW, GEMM output positions, planes: Rows). Used by conv2d_same_affine
// and the ends of conv2d_same_affine_chain. Internal to tensor/; see conv2d_same_planes.hpp
// for which file has what.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "conv2d_same_planes.hpp"
#include "parallel.hpp"
#include "simd.hpp"

namespace fz::detail::same_conv {

// ---- the fused per-output-channel epilogue y = act(s * z + t) -------------------------------
//
// Rows here are image rows (7, 14 or 28 values) or whole 1x1 images (49 or 196): short, so
// like copy_rows they go in whole vectors that may run past the row's end, into memory the
// caller rewrites later; `exact` rows (whose overrun would leave their block, or read past
// the end of a buffer) use partial loads and stores instead.

template <typename T>
inline xsimd::batch<T> lanes_below(std::size_t n) {  // all-ones lanes [0, n), zero elsewhere
  using B = xsimd::batch<T>;
  alignas(64) T m[B::size];
  for (std::size_t l = 0; l < B::size; ++l) m[l] = l < n ? T(1) : T(0);
  return B::load_aligned(m);
}

// The per-row work of the epilogue for rows of n values, with what does not change from row to
// row (the lane mask of the last vector) worked out once; RELU is a template argument so the
// inner loops carry no branch. Rows are 7-28 values, so the per-row overhead is what counts.
template <typename T, bool RELU>
struct AffineRows {
  using B = xsimd::batch<T>;
  static constexpr std::size_t W = B::size;
  std::size_t n;
  B keep;  // 1 on the lanes of the row's last vector that lie inside the row
  explicit AffineRows(std::size_t values)
      : n(values), keep(lanes_below<T>(values % W == 0 ? W : values % W)) {}

  static B act(const B& a) { return RELU ? xsimd::max(a, B(T(0))) : a; }

  // y[i] = act(s * z[i] + t) for i < n.
  inline __attribute__((always_inline)) void out(const T* z, T* y, const B& vs, const B& vt,
                                                 bool exact) const {
    std::size_t i = 0;
    for (; i + W <= n; i += W) act(xsimd::fma(B::load_unaligned(z + i), vs, vt)).store_unaligned(y + i);
    if (i == n) return;
    if (exact)
      simd::store_partial(act(xsimd::fma(simd::load_partial(z + i, n - i), vs, vt)), y + i, n - i);
    else
      act(xsimd::fma(B::load_unaligned(z + i), vs, vt)).store_unaligned(y + i);
  }

  // gm = g * [s z + t > 0] (g alone without ReLU); out = s * gm; acc_gz += gm * z and
  // acc_g += gm over the n real lanes.
  inline __attribute__((always_inline)) void grad(const T* g, const T* z, T* o, const B& vs,
                                                  const B& vt, bool exact, B& acc_gz,
                                                  B& acc_g) const {
    auto f = [&](const B& gv, const B& zv) {
      const B gm = RELU ? xsimd::select(xsimd::fma(zv, vs, vt) > B(T(0)), gv, B(T(0))) : gv;
      acc_gz = xsimd::fma(gm, zv, acc_gz);
      acc_g += gm;
      return gm * vs;
    };
    std::size_t i = 0;
    for (; i + W <= n; i += W)
      f(B::load_unaligned(g + i), B::load_unaligned(z + i)).store_unaligned(o + i);
    if (i == n) return;
    if (exact)  // partial loads fill the missing lanes with zeros: they add nothing
      simd::store_partial(f(simd::load_partial(g + i, n - i), simd::load_partial(z + i, n - i)),
                          o + i, n - i);
    else
      f(B::load_unaligned(g + i) * keep, B::load_unaligned(z + i)).store_unaligned(o + i);
  }
};

template <typename T>
T lane_sum(const xsimd::batch<T>& v) {
  alignas(64) T lanes[xsimd::batch<T>::size];
  v.store_aligned(lanes);
  T s = T(0);
  for (T l : lanes) s += l;
  return s;
}

// Where row h of image n, channel c of an activation lives: in NCHW, in a GEMM's output
// positions (Q per channel) or in a plane (len per channel). `end` counts the values readable
// from base, which bounds the whole-vector reads past a row's end.
template <typename P>
struct Rows {
  P* base;
  std::size_t channel, image, row, end;
  P* at(std::size_t n, std::size_t c, std::size_t h) const {
    return base + c * channel + n * image + h * row;
  }
};
template <typename P>
Rows<P> nchw_rows(P* data, std::size_t C, const Plane& pl) {
  return {data, pl.H * pl.W, C * pl.H * pl.W, pl.W, pl.N * C * pl.H * pl.W};
}
// Positions buffers carry one spare vector at their end (see conv2d_same_affine).
template <typename P>
Rows<P> position_rows(P* Y, std::size_t C, const Plane& pl) {
  return {Y, pl.Q, pl.period * pl.R, pl.R, C * pl.Q + xsimd::batch<std::remove_const_t<P>>::size};
}
template <typename P>
Rows<P> plane_rows(P* planes, std::size_t C, const Plane& pl) {
  return {planes + pl.q0, pl.len, pl.period * pl.R, pl.R, C * pl.len - pl.q0};
}

// y = act(s_o * z + t_o) row by row, z and y in any layout; when y_plane is given, y is that
// plane layout and its zeros (row padding, separators, head and tail) are written too.
template <typename T, bool RELU>
void affine_out_impl(const Rows<const T>& z, const Rows<T>& y, std::size_t Cout, const Plane& pl,
                     const T* s, const T* t, const Plane* y_plane) {
  using B = xsimd::batch<T>;
  const std::size_t W = B::size, whole = (pl.W + W - 1) / W * W;
  const std::size_t hw = pl.H * pl.W;
  // One run per image when every row follows the previous one directly (NCHW, or p = 0).
  const bool runs = z.row == pl.W && y.row == pl.W;
  const AffineRows<T, RELU> image_run(hw), image_row(pl.W);
  parallel_for(pl.N * Cout, std::max<std::size_t>(1, kParallelGrain / (hw + 1)),
               [&](std::size_t i0, std::size_t i1) {
                 for (std::size_t i = i0; i < i1; ++i) {
                   const std::size_t n = i / Cout, o = i % Cout;
                   const T* zr = z.at(n, o, 0);
                   T* yr = y.at(n, o, 0);
                   const B vs(s[o]), vt(t[o]);
                   if (runs) {
                     image_run.out(zr, yr, vs, vt, true);
                   } else {
                     for (std::size_t h = 0; h < pl.H; ++h) {
                       // Whole vectors while the overrun stays inside this image's rows of y
                       // (rewritten next, or padding zeroed below) and inside z's buffer.
                       const bool exact = h * y.row + whole > (pl.H - 1) * y.row + pl.W ||
                                          std::size_t(zr + h * z.row - z.base) + whole > z.end;
                       image_row.out(zr + h * z.row, yr + h * y.row, vs, vt, exact);
                     }
                   }
                   if (!y_plane) continue;
                   const Plane& yp = *y_plane;
                   T* plane = y.base - yp.q0 + o * yp.len;
                   for (std::size_t h = 0; h < pl.H; ++h)  // each row's p zeros
                     std::fill(yr + h * yp.R + pl.W, yr + (h + 1) * yp.R, T(0));
                   std::fill(yr + pl.H * yp.R, yr + yp.period * yp.R, T(0));  // separator
                   if (n == 0) std::fill(plane, plane + yp.q0, T(0));
                   if (n + 1 == pl.N) std::fill(plane + yp.q0 + yp.Q, plane + yp.len, T(0));
                 }
               });
}

template <typename T>
void affine_out(const Rows<const T>& z, const Rows<T>& y, std::size_t Cout, const Plane& pl,
                const T* s, const T* t, bool relu, const Plane* y_plane = nullptr) {
  if (relu)
    affine_out_impl<T, true>(z, y, Cout, pl, s, t, y_plane);
  else
    affine_out_impl<T, false>(z, y, Cout, pl, s, t, y_plane);
}

// The Cout planes (layout `pl`) of dz = s_o * g * mask, zeros at every separator, from
// g = dL/dy and the saved z (each in any layout); dscale[o] = sum g mask z, dshift[o] =
// sum g mask.
template <typename T, bool RELU>
void affine_grad_planes_impl(const Rows<const T>& g, const Rows<const T>& z, std::size_t Cout,
                             const Plane& pl, const T* s, const T* t, T* dz, T* dscale,
                             T* dshift) {
  using B = xsimd::batch<T>;
  const std::size_t hw = pl.H * pl.W, W = B::size;
  const std::size_t whole = (pl.W + W - 1) / W * W;
  const bool runs = pl.p == 0 && g.row == pl.W && z.row == pl.W;
  const std::size_t run = (hw + W - 1) / W * W;
  const AffineRows<T, RELU> image_run(hw), image_row(pl.W);
  parallel_for(Cout, std::max<std::size_t>(1, kParallelGrain / (pl.len + 1)),
               [&](std::size_t o0, std::size_t o1) {
                 for (std::size_t o = o0; o < o1; ++o) {
                   T* plane = dz + o * pl.len;
                   B acc_gz(T(0)), acc_g(T(0));
                   const B vs(s[o]), vt(t[o]);
                   std::fill(plane, plane + pl.q0, T(0));
                   for (std::size_t n = 0; n < pl.N; ++n) {
                     const T* gr = g.at(n, o, 0);
                     const T* zr = z.at(n, o, 0);
                     T* rows = plane + pl.q0 + pl.pos(n, 0, 0);
                     // Whole vectors unless that would read past g or z or write past this
                     // plane; the overrun lands on the next row (rewritten next) or on padding
                     // (zeroed below).
                     auto exact = [&](std::size_t g_at, std::size_t z_at, std::size_t d_at,
                                      std::size_t span) {
                       return std::size_t(gr - g.base) + g_at + span > g.end ||
                              std::size_t(zr - z.base) + z_at + span > z.end ||
                              std::size_t(rows - plane) + d_at + span > pl.len;
                     };
                     if (runs) {  // 1x1: the image is one contiguous run everywhere
                       image_run.grad(gr, zr, rows, vs, vt, exact(0, 0, 0, run), acc_gz, acc_g);
                       continue;
                     }
                     for (std::size_t h = 0; h < pl.H; ++h)
                       image_row.grad(gr + h * g.row, zr + h * z.row, rows + h * pl.R, vs, vt,
                                      exact(h * g.row, h * z.row, h * pl.R, whole), acc_gz,
                                      acc_g);
                     if (pl.p > 0) {
                       for (std::size_t h = 0; h < pl.H; ++h)  // each row's p zeros
                         std::fill(rows + h * pl.R + pl.W, rows + (h + 1) * pl.R, T(0));
                       std::fill(rows + pl.H * pl.R, rows + pl.period * pl.R, T(0));
                     }
                   }
                   std::fill(plane + pl.q0 + pl.Q, plane + pl.len, T(0));
                   dscale[o] = lane_sum(acc_gz);
                   dshift[o] = lane_sum(acc_g);
                 }
               });
}

template <typename T>
void affine_grad_planes(const Rows<const T>& g, const Rows<const T>& z, std::size_t Cout,
                        const Plane& pl, const T* s, const T* t, bool relu, T* dz, T* dscale,
                        T* dshift) {
  if (relu)
    affine_grad_planes_impl<T, true>(g, z, Cout, pl, s, t, dz, dscale, dshift);
  else
    affine_grad_planes_impl<T, false>(g, z, Cout, pl, s, t, dz, dscale, dshift);
}

}  // namespace fz::detail::same_conv
