// tensor/conv2d_same.cpp — "same" convolutions (odd k, stride 1, padding (k-1)/2) as one GEMM
// over the whole batch, reading the input's shifted rows in place, plus their fused affine /
// ReLU epilogues and chains (tensor/conv2d_affine.hpp). See conv2d_same.hpp for the plane
// layout and why it needs no im2col.
#include "tensor/conv2d_same.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "tensor/gemm.hpp"
#include "tensor/gemm_dots.hpp"
#include "tensor/gemm_skinny.hpp"
#include "tensor/parallel.hpp"
#include "tensor/scratch.hpp"
#include "tensor/simd.hpp"

namespace fz::detail {

namespace {

// Where each pixel of N images of H x W sits in a channel's plane, for a k x k kernel.
struct Plane {
  std::size_t N, H, W, k, p;
  std::size_t R;       // row width: W pixels + p zeros (the padding right of this row and left of the next)
  std::size_t period;  // rows per image: H rows + p zero rows (padding below this image, above the next)
  std::size_t q0;      // index of position 0 (image 0, row 0, column 0): at least p zero rows and p zeros before it
  std::size_t Q;       // positions computed: N * period * R (separators included)
  std::size_t len;     // floats per channel: q0 + Q + the taps' reach past the end

  Plane(std::size_t n, std::size_t h, std::size_t w, std::size_t kernel)
      : N(n), H(h), W(w), k(kernel), p((kernel - 1) / 2) {
    R = W + p;
    period = H + p;
    // Position 0 and every channel start on a 64-byte boundary, so the rows of dY that
    // gemm_dots streams are aligned loads (the shifted tap lines cannot all be).
    q0 = round_up(p * R + p);
    Q = N * period * R;
    len = round_up(q0 + Q + p * R + p);
  }
  static std::size_t round_up(std::size_t n) { return (n + 15) / 16 * 16; }
  // Position of pixel (n, h, w) relative to q0.
  std::size_t pos(std::size_t n, std::size_t h, std::size_t w) const {
    return (n * period + h) * R + w;
  }
};

// Per-thread scratch (the calling thread's; GEMM's workers have their own packing buffers).
struct Planes {};
template <typename T>
T* plane_scratch(std::size_t which, std::size_t n) {
  return thread_scratch<Planes, T>(which, n);
}

// dst row h [0, n) = src row h [0, n) + add (then max(., 0) when RELU), for `rows` rows of n
// values. Image rows here are
// short (7, 14 or 28 floats), so the scalar tail of each row would cost as much as the vector
// part: instead, a row is copied in whole vectors that run past its end into the next row (or
// the row's padding), which is then rewritten in order. Only the rows whose overrun would
// leave the block (the image's last row or two) copy their tail exactly. Callers re-zero any
// padding between rows afterwards.
template <typename T, bool RELU = false>
inline void copy_rows(const T* __restrict src, std::size_t src_stride, T* __restrict dst,
                      std::size_t dst_stride, std::size_t rows, std::size_t n, T add) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  const B vadd(add), zero(T(0));
  auto f = [&](const B& v) { return RELU ? xsimd::max(v + vadd, zero) : v + vadd; };
  const std::size_t whole = (n + W - 1) / W * W;  // n rounded up to whole vectors
  const std::size_t src_end = (rows - 1) * src_stride + n, dst_end = (rows - 1) * dst_stride + n;
  for (std::size_t h = 0; h < rows; ++h) {
    const T* s = src + h * src_stride;
    T* d = dst + h * dst_stride;
    std::size_t i = 0;
    if (h * src_stride + whole <= src_end && h * dst_stride + whole <= dst_end) {
      for (; i < n; i += W) f(B::load_unaligned(s + i)).store_unaligned(d + i);
      continue;
    }
    for (; i + W <= n; i += W) f(B::load_unaligned(s + i)).store_unaligned(d + i);
    for (; i < n; ++i) d[i] = RELU ? std::max(s[i] + add, T(0)) : s[i] + add;
  }
}

// NCHW tensor data (N, C, H, W) -> C planes of pl.len floats, zeros everywhere but the pixels
// (which pass through a ReLU on the way when relu: a convolution of relu(x)).
template <typename T>
void to_plane(const T* src, std::size_t C, const Plane& pl, T* dst, bool relu = false) {
  const std::size_t hw = pl.H * pl.W;
  parallel_for(C, std::max<std::size_t>(1, kParallelGrain / (pl.len + 1)),
               [&](std::size_t c0, std::size_t c1) {
                 for (std::size_t c = c0; c < c1; ++c) {
                   T* plane = dst + c * pl.len;
                   if (pl.p == 0) {  // no padding: each image is one contiguous run
                     for (std::size_t n = 0; n < pl.N; ++n) {
                       T* run = plane + pl.q0 + pl.pos(n, 0, 0);
                       const T* image = src + (n * C + c) * hw;
                       if (relu)
                         copy_rows<T, true>(image, hw, run, hw, 1, hw, T(0));
                       else
                         std::memcpy(run, image, hw * sizeof(T));
                     }
                     continue;
                   }
                   // Pixels row by row, each followed by its p zeros; p zero rows per image;
                   // zeros before the first and after the last position the taps reach.
                   std::fill(plane, plane + pl.q0, T(0));
                   for (std::size_t n = 0; n < pl.N; ++n) {
                     const T* image = src + (n * C + c) * hw;
                     T* rows = plane + pl.q0 + pl.pos(n, 0, 0);
                     if (relu)
                       copy_rows<T, true>(image, pl.W, rows, pl.R, pl.H, pl.W, T(0));
                     else
                       copy_rows(image, pl.W, rows, pl.R, pl.H, pl.W, T(0));
                     for (std::size_t h = 0; h < pl.H; ++h)  // each row's p zeros
                       std::fill(rows + h * pl.R + pl.W, rows + (h + 1) * pl.R, T(0));
                     T* separator = rows + pl.H * pl.R;
                     std::fill(separator, separator + pl.p * pl.R, T(0));
                   }
                   std::fill(plane + pl.q0 + pl.Q, plane + pl.len, T(0));
                 }
               });
}

// out[i] = 0 where gate[i] <= 0, for n values: the input gradient of a convolution of relu(x)
// (gate = x).
template <typename T>
inline void zero_where_not_positive(T* out, const T* gate, std::size_t n) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  const B zero(T(0));
  std::size_t i = 0;
  for (; i + W <= n; i += W)
    xsimd::select(B::load_unaligned(gate + i) > zero, B::load_unaligned(out + i), zero)
        .store_unaligned(out + i);
  for (; i < n; ++i)
    if (!(gate[i] > T(0))) out[i] = T(0);
}

// Y (C_out rows of pl.Q positions) -> NCHW output, dropping the separators, adding the bias;
// zeroed where gate (NCHW, same shape as out) is not positive, when given.
template <typename T>
void from_positions(const T* Y, const T* bias, std::size_t Cout, const Plane& pl, T* out,
                    const T* gate = nullptr) {
  const std::size_t hw = pl.H * pl.W;
  parallel_for(pl.N * Cout, std::max<std::size_t>(1, kParallelGrain / (hw + 1)),
               [&](std::size_t i0, std::size_t i1) {
                 for (std::size_t i = i0; i < i1; ++i) {
                   const std::size_t n = i / Cout, o = i % Cout;
                   T* image = out + i * hw;
                   const T* row = Y + o * pl.Q + pl.pos(n, 0, 0);
                   const T b = bias ? bias[o] : T(0);
                   if (pl.p == 0)  // rows are contiguous: one run per image
                     copy_rows(row, hw, image, hw, 1, hw, b);
                   else
                     copy_rows(row, pl.R, image, pl.W, pl.H, pl.W, b);
                   if (gate) zero_where_not_positive(image, gate + i * hw, hw);  // still in cache
                 }
               });
}

// The im2col row of (c, ki, kj) is the run of channel c's plane shifted by the tap's offset.
// A plane laid out for a k x k kernel also serves any smaller odd kernel (its padding is
// wider than needed): k defaults to the plane's own.
template <typename T>
std::vector<const T*> tap_lines(const T* planes, std::size_t C, const Plane& pl, std::size_t k) {
  std::vector<const T*> lines(C * k * k);
  const std::ptrdiff_t p = static_cast<std::ptrdiff_t>((k - 1) / 2);
  const std::ptrdiff_t R = static_cast<std::ptrdiff_t>(pl.R);
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t ki = 0; ki < k; ++ki)
      for (std::size_t kj = 0; kj < k; ++kj) {
        const std::ptrdiff_t shift = (std::ptrdiff_t(ki) - p) * R + (std::ptrdiff_t(kj) - p);
        lines[(c * k + ki) * k + kj] = planes + c * pl.len + pl.q0 + shift;
      }
  return lines;
}
template <typename T>
std::vector<const T*> tap_lines(const T* planes, std::size_t C, const Plane& pl) {
  return tap_lines(planes, C, pl, pl.k);
}

// W'[c][o][ki][kj] = W[o][c][k-1-ki][k-1-kj]: the weight of the transposed convolution.
template <typename T>
std::vector<T, xsimd::aligned_allocator<T, 64>> flip_weight(const Tensor<T>& weight) {
  const Shape& ws = weight.shape();
  const std::size_t Cout = ws[0], C = ws[1], k = ws[2];
  std::vector<T, xsimd::aligned_allocator<T, 64>> flipped(C * Cout * k * k);
  for (std::size_t o = 0; o < Cout; ++o)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t ki = 0; ki < k; ++ki)
        for (std::size_t kj = 0; kj < k; ++kj)
          flipped[((c * Cout + o) * k + (k - 1 - ki)) * k + (k - 1 - kj)] =
              weight[((o * C + c) * k + ki) * k + kj];
  return flipped;
}

// 1x1 convolutions without planes: image n's (C, H, W) block is already a row-major C x HW
// matrix, so out_n (rows x HW) = op(W) in_n is one GEMM per image, written straight into the
// NCHW output (no copies in or out — for these FLOP-light convs the copies cost as much as
// the product). op(W) is W (Cout x C) for the forward pass and W^T for the input gradient.
// Image n of the input starts at in + n * image_stride and its rows are ld apart (NCHW:
// depth * HW and HW; a plane layout: HW and the plane length). Images run in parallel, each
// GEMM on one thread.
template <typename T>
void conv1x1_per_image(bool transpose_weight, const T* weight, std::size_t Cout, std::size_t C,
                       const T* in, std::size_t image_stride, std::size_t ld, std::size_t N,
                       std::size_t hw, const T* bias, T* out) {
  const std::size_t rows = transpose_weight ? C : Cout, depth = transpose_weight ? Cout : C;
  parallel_for(N, 1, [&](std::size_t n0, std::size_t n1) {
    for (std::size_t n = n0; n < n1; ++n) {
      T* o = out + n * rows * hw;
      if (bias)  // start each output channel at its bias and add the product onto it
        for (std::size_t r = 0; r < rows; ++r) std::fill(o + r * hw, o + (r + 1) * hw, bias[r]);
      gemm<T>(transpose_weight, false, rows, hw, depth, T(1), weight, C, in + n * image_stride, ld,
              bias ? T(1) : T(0), o, hw, /*parallel=*/false);
    }
  });
}

// The output positions of a same convolution: Cout rows of pl.Q positions, from the GEMM
// (few output channels: the in-place skinny kernel; otherwise the packed GEMM on tap lines).
template <typename T>
void conv_positions(const T* planes, std::size_t C, const Plane& pl, const T* wm, std::size_t Cout,
                    T* Y, std::size_t k) {
  const std::vector<const T*> lines = tap_lines(planes, C, pl, k);
  const std::size_t ckk = C * k * k;
  if (Cout <= kSkinnyMaxRows)
    gemm_skinny_lines<T>(Cout, pl.Q, ckk, wm, ckk, lines.data(), Y, pl.Q);
  else
    gemm_lines<T>(false, Cout, pl.Q, ckk, T(1), wm, ckk, lines.data(), false, T(0), Y, pl.Q);
}
template <typename T>
void conv_positions(const T* planes, std::size_t C, const Plane& pl, const T* wm, std::size_t Cout,
                    T* Y) {
  conv_positions(planes, C, pl, wm, Cout, Y, pl.k);
}

// Both gradients of a same convolution from dY already in plane layout (dy, Cout planes):
//   dx  = conv(dY, W'), W' the flipped, channel-transposed weight: each input pixel gathers the
//         output gradients of every position whose kernel covered it (1x1: W^T per image);
//   dWm = dY (Cout x positions) . lines(x)^T, with dY zero at the separators, so positions
//         that were thrown away in the forward pass add nothing.
// relu_input: the convolution read relu(x), so dx is zeroed where x <= 0 and the weight
// gradient reads relu(x).
template <typename T>
void backward_from_dy_planes(const T* dy, const Plane& pl, const Tensor<T>* x,
                             const Tensor<T>* weight, const Shape& xs, const Shape& ws,
                             Tensor<T>* dx, Tensor<T>* dw, const Tensor<T>* x_planes,
                             bool relu_input = false) {
  const std::size_t C = xs[1], Cout = ws[0], k = ws[2];  // k <= pl.k
  if (dx) {
    *dx = Tensor<T>::empty(xs);
    if (pl.p == 0) {  // 1x1 in an unpadded layout: per image, no positions
      conv1x1_per_image(true, weight->data(), Cout, C, dy + pl.q0, pl.H * pl.W, pl.len, pl.N,
                        pl.H * pl.W, static_cast<const T*>(nullptr), dx->data());
      if (relu_input) zero_where_not_positive(dx->data(), x->data(), dx->numel());
    } else {
      const auto flipped = flip_weight(*weight);
      T* Y = plane_scratch<T>(1, C * pl.Q);
      conv_positions(dy, Cout, pl, flipped.data(), C, Y, k);
      from_positions(static_cast<const T*>(Y), static_cast<const T*>(nullptr), C, pl, dx->data(),
                     relu_input ? x->data() : static_cast<const T*>(nullptr));
    }
  }
  if (dw) {
    const T* planes;
    if (x_planes && x_planes->defined()) {
      if (x_planes->numel() != C * pl.len)
        throw std::invalid_argument("conv2d backward: the saved input layout has " +
                                    std::to_string(x_planes->numel()) + " values, expected " +
                                    std::to_string(C * pl.len) + " for input " + shape_str(xs));
      planes = x_planes->data();
    } else {
      T* fresh = plane_scratch<T>(1, C * pl.len);
      to_plane(x->data(), C, pl, fresh, relu_input);
      planes = fresh;
    }
    const std::vector<const T*> lines = tap_lines(planes, C, pl, k);
    const std::size_t ckk = C * k * k;
    *dw = Tensor<T>::empty(ws);
    gemm_dots<T>(Cout, ckk, pl.Q, dy + pl.q0, pl.len, lines.data(), dw->data(), ckk);
  }
}

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

// ---- epilogues between the layers of a chain -------------------------------------------------
//
// A chain lays every layer out in one plane geometry (padding for its largest kernel), so the
// output positions of one layer and the input plane of the next coincide position for position:
// the epilogue between them is a flat pass over the positions, with a 0/1 mask for the
// separators, instead of row by row.

// 1 at the positions of pixels, 0 at separators, for pl.Q positions (and a spare vector of 0).
template <typename T>
const T* pixel_mask(const Plane& pl) {
  struct PixelMask {};
  const std::size_t V = xsimd::batch<T>::size;
  T* mask = thread_scratch<PixelMask, T>(0, pl.Q + V);
  for (std::size_t q = 0; q < pl.Q; ++q)
    mask[q] = (q / pl.R) % pl.period < pl.H && q % pl.R < pl.W ? T(1) : T(0);
  std::fill(mask + pl.Q, mask + pl.Q + V, T(0));
  return mask;
}

// h (C planes) = act(s_c * z + t_c) at the pixels, 0 everywhere else; z in positions (pl).
template <typename T, bool RELU>
void affine_positions_to_planes(const T* z, std::size_t C, const Plane& pl, const T* s,
                                const T* t, const T* mask, T* h) {
  using B = xsimd::batch<T>;
  constexpr std::size_t V = B::size;
  parallel_for(C, std::max<std::size_t>(1, kParallelGrain / (pl.len + 1)),
               [&](std::size_t c0, std::size_t c1) {
                 for (std::size_t c = c0; c < c1; ++c) {
                   const T* zc = z + c * pl.Q;
                   T* plane = h + c * pl.len;
                   const B vs(s[c]), vt(t[c]), zero(T(0));
                   auto f = [&](const B& zv, const B& m) {
                     const B a = xsimd::fma(zv, vs, vt);
                     return (RELU ? xsimd::max(a, zero) : a) * m;
                   };
                   std::fill(plane, plane + pl.q0, T(0));
                   std::size_t q = 0;
                   for (; q + V <= pl.Q; q += V)
                     f(B::load_unaligned(zc + q), B::load_unaligned(mask + q))
                         .store_unaligned(plane + pl.q0 + q);
                   if (q < pl.Q)
                     simd::store_partial(f(simd::load_partial(zc + q, pl.Q - q),
                                           simd::load_partial(mask + q, pl.Q - q)),
                                         plane + pl.q0 + q, pl.Q - q);
                   std::fill(plane + pl.q0 + pl.Q, plane + pl.len, T(0));
                 }
               });
}

// dz (C planes) = s_c * g * mask, with g = dL/dy and the saved z both in positions (pl);
// dscale[c] = sum g mask z, dshift[c] = sum g mask over the pixels.
template <typename T, bool RELU>
void affine_grad_positions(const T* g, const T* z, std::size_t C, const Plane& pl, const T* s,
                           const T* t, const T* mask, T* dz, T* dscale, T* dshift) {
  using B = xsimd::batch<T>;
  constexpr std::size_t V = B::size;
  parallel_for(C, std::max<std::size_t>(1, kParallelGrain / (pl.len + 1)),
               [&](std::size_t c0, std::size_t c1) {
                 for (std::size_t c = c0; c < c1; ++c) {
                   const T* gc = g + c * pl.Q;
                   const T* zc = z + c * pl.Q;
                   T* plane = dz + c * pl.len;
                   const B vs(s[c]), vt(t[c]), zero(T(0));
                   B acc_gz(T(0)), acc_g(T(0));
                   auto f = [&](const B& gv, const B& zv, const B& m) {
                     const B gp = gv * m;  // dL/dy at separators is not a gradient: drop it
                     const B gm = RELU ? xsimd::select(xsimd::fma(zv, vs, vt) > zero, gp, zero) : gp;
                     acc_gz = xsimd::fma(gm, zv, acc_gz);
                     acc_g += gm;
                     return gm * vs;
                   };
                   std::fill(plane, plane + pl.q0, T(0));
                   std::size_t q = 0;
                   for (; q + V <= pl.Q; q += V)
                     f(B::load_unaligned(gc + q), B::load_unaligned(zc + q),
                       B::load_unaligned(mask + q))
                         .store_unaligned(plane + pl.q0 + q);
                   if (q < pl.Q) {
                     const std::size_t r = pl.Q - q;
                     simd::store_partial(f(simd::load_partial(gc + q, r), simd::load_partial(zc + q, r),
                                           simd::load_partial(mask + q, r)),
                                         plane + pl.q0 + q, r);
                   }
                   std::fill(plane + pl.q0 + pl.Q, plane + pl.len, T(0));
                   dscale[c] = lane_sum(acc_gz);
                   dshift[c] = lane_sum(acc_g);
                 }
               });
}

}  // namespace

bool conv2d_is_same(const Shape& weight_shape, std::size_t stride, std::size_t padding) {
  if (weight_shape.size() != 4) return false;
  const std::size_t k = weight_shape[2];
  return stride == 1 && k == weight_shape[3] && k % 2 == 1 && padding == (k - 1) / 2;
}

template <typename T>
Tensor<T> conv2d_same(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                      Tensor<T>* keep_planes) {
  const Shape& xs = x.shape();
  const std::size_t N = xs[0], C = xs[1], Cout = weight.shape()[0];
  const Plane pl(N, xs[2], xs[3], weight.shape()[2]);
  if (pl.k == 1) {
    Tensor<T> y = Tensor<T>::empty({N, Cout, xs[2], xs[3]});
    conv1x1_per_image(false, weight.data(), Cout, C, x.data(), C * pl.H * pl.W, pl.H * pl.W, N,
                      pl.H * pl.W, bias.defined() ? bias.data() : nullptr, y.data());
    return y;
  }
  T* planes;
  if (keep_planes) {
    *keep_planes = Tensor<T>::empty({C * pl.len});
    planes = keep_planes->data();
  } else {
    planes = plane_scratch<T>(0, C * pl.len);
  }
  to_plane(x.data(), C, pl, planes);
  Tensor<T> y = Tensor<T>::empty({N, Cout, xs[2], xs[3]});
  T* Y = plane_scratch<T>(1, Cout * pl.Q);
  conv_positions(static_cast<const T*>(planes), C, pl, weight.data(), Cout, Y);
  from_positions(static_cast<const T*>(Y), bias.defined() ? bias.data() : nullptr, Cout, pl,
                 y.data());
  return y;
}

// Both gradients from one plane layout of dY (see backward_from_dy_planes).
template <typename T>
void conv2d_same_backward(const Tensor<T>& grad_out, const Tensor<T>* x, const Tensor<T>* weight,
                          const Shape& xs, const Shape& ws, Tensor<T>* dx, Tensor<T>* dw,
                          const Tensor<T>* x_planes) {
  const std::size_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const std::size_t Cout = ws[0], k = ws[2];
  if (k == 1 && dx && !dw) {  // 1x1, input gradient only: straight from grad_out, no plane
    *dx = Tensor<T>::empty(xs);
    conv1x1_per_image(true, weight->data(), Cout, C, grad_out.data(), Cout * H * W, H * W, N,
                      H * W, static_cast<const T*>(nullptr), dx->data());
    return;
  }
  if (!dx && !dw) return;
  const Plane pl(N, H, W, k);
  T* dy = plane_scratch<T>(0, Cout * pl.len);
  to_plane(grad_out.data(), Cout, pl, dy);
  backward_from_dy_planes(static_cast<const T*>(dy), pl, x, weight, xs, ws, dx, dw, x_planes);
}

// z = conv(x, W) and y = act(s_o * z + t_o) in one go; z kept in *z_saved for the backward
// pass (the GEMM's output positions for k > 1, NCHW for 1x1).
template <typename T>
Tensor<T> conv2d_same_affine(const Tensor<T>& x, const Tensor<T>& weight, const T* scale,
                             const T* shift, bool relu, Tensor<T>* z_saved,
                             Tensor<T>* keep_planes, bool relu_input) {
  const Shape& xs = x.shape();
  const std::size_t N = xs[0], C = xs[1], Cout = weight.shape()[0];
  const Plane pl(N, xs[2], xs[3], weight.shape()[2]);
  const std::size_t hw = pl.H * pl.W;
  Tensor<T> y = Tensor<T>::empty({N, Cout, pl.H, pl.W});
  if (pl.k == 1) {
    Tensor<T> rectified;  // 1x1 reads x in place, so relu(x) needs its own copy
    if (relu_input) {
      rectified = Tensor<T>::empty(xs);
      for (std::size_t i = 0; i < x.numel(); ++i) rectified[i] = std::max(x[i], T(0));
    }
    const Tensor<T>& in = relu_input ? rectified : x;
    *z_saved = Tensor<T>::empty({N, Cout, pl.H, pl.W});
    conv1x1_per_image(false, weight.data(), Cout, C, in.data(), C * hw, hw, N, hw,
                      static_cast<const T*>(nullptr), z_saved->data());
    affine_out(nchw_rows(static_cast<const T*>(z_saved->data()), Cout, pl),
               nchw_rows(y.data(), Cout, pl), Cout, pl, scale, shift, relu);
    return y;
  }
  T* planes;
  if (keep_planes) {
    *keep_planes = Tensor<T>::empty({C * pl.len});
    planes = keep_planes->data();
  } else {
    planes = plane_scratch<T>(0, C * pl.len);
  }
  to_plane(x.data(), C, pl, planes, relu_input);
  // One spare vector at the end: affine_out reads whole vectors past the last row.
  *z_saved = Tensor<T>::empty({Cout * pl.Q + xsimd::batch<T>::size});
  std::fill(z_saved->data() + Cout * pl.Q, z_saved->data() + z_saved->numel(), T(0));
  conv_positions(static_cast<const T*>(planes), C, pl, weight.data(), Cout, z_saved->data());
  affine_out(position_rows(static_cast<const T*>(z_saved->data()), Cout, pl),
             nchw_rows(y.data(), Cout, pl), Cout, pl, scale, shift, relu);
  return y;
}

template <typename T>
void conv2d_same_affine_backward(const Tensor<T>& grad_y, const Tensor<T>& z_saved,
                                 const T* scale, const T* shift, bool relu, const Tensor<T>* x,
                                 const Tensor<T>* weight, const Shape& xs, const Shape& ws,
                                 Tensor<T>* dx, Tensor<T>* dw, T* dscale, T* dshift,
                                 const Tensor<T>* x_planes, bool relu_input) {
  const std::size_t N = xs[0], H = xs[2], W = xs[3], Cout = ws[0], k = ws[2];
  const Plane pl(N, H, W, k);
  const std::size_t expected = k == 1 ? N * Cout * H * W : Cout * pl.Q + xsimd::batch<T>::size;
  if (z_saved.numel() != expected)
    throw std::invalid_argument("conv2d_affine backward: the saved convolution output has " +
                                std::to_string(z_saved.numel()) + " values, expected " +
                                std::to_string(expected));
  T* dz = plane_scratch<T>(0, Cout * pl.len);
  const T* z = z_saved.data();
  affine_grad_planes(nchw_rows(grad_y.data(), Cout, pl),
                     k > 1 ? position_rows(z, Cout, pl) : nchw_rows(z, Cout, pl), Cout, pl,
                     scale, shift, relu, dz, dscale, dshift);
  backward_from_dy_planes(static_cast<const T*>(dz), pl, x, weight, xs, ws, dx, dw, x_planes,
                          relu_input);
}

// The layers of conv2d_affine_chain share one plane geometry L (padding for the largest
// kernel). Layer i's convolution output z_i is in L's positions, except for a chain of 1x1
// layers only (L unpadded), whose first layer runs per image on NCHW data.
template <typename T>
Rows<const T> chain_z_rows(const Tensor<T>& z, std::size_t i, std::size_t C, const Plane& L) {
  return i == 0 && L.p == 0 ? nchw_rows(z.data(), C, L) : position_rows(z.data(), C, L);
}

template <typename T>
Plane chain_layout(const Shape& xs, const std::vector<ChainLayer<T>>& layers) {
  std::size_t kmax = 1;
  for (const ChainLayer<T>& l : layers) kmax = std::max(kmax, l.weight->shape()[2]);
  return Plane(xs[0], xs[2], xs[3], kmax);
}

template <typename T>
Tensor<T> conv2d_same_affine_chain(const Tensor<T>& x, bool relu_input,
                                   const std::vector<ChainLayer<T>>& layers,
                                   std::vector<Tensor<T>>* z, std::vector<Tensor<T>>* h,
                                   Tensor<T>* x_layout) {
  const Shape& xs = x.shape();
  const std::size_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], V = xsimd::batch<T>::size;
  const std::size_t hw = H * W, m = layers.size();
  const Plane L = chain_layout(xs, layers);
  z->assign(m, Tensor<T>());
  h->assign(m, Tensor<T>());
  std::vector<std::size_t> ch, k;  // output channels and kernel size per layer
  for (const ChainLayer<T>& l : layers) {
    ch.push_back(l.weight->shape()[0]);
    k.push_back(l.weight->shape()[2]);
  }
  auto new_positions = [&](std::size_t channels) {
    Tensor<T> t = Tensor<T>::empty({channels * L.Q + V});  // a spare vector for whole-vector reads
    std::fill(t.data() + channels * L.Q, t.data() + t.numel(), T(0));
    return t;
  };
  // Layer 0 from x, as conv2d_same_affine does.
  if (L.p == 0) {  // only 1x1 layers: per image, NCHW
    Tensor<T> rectified;  // 1x1 reads x in place, so relu(x) needs its own copy
    if (relu_input) {
      rectified = Tensor<T>::empty(xs);
      for (std::size_t i = 0; i < x.numel(); ++i) rectified[i] = std::max(x[i], T(0));
    }
    const Tensor<T>& in = relu_input ? rectified : x;
    (*z)[0] = Tensor<T>::empty({N, ch[0], H, W});
    conv1x1_per_image(false, layers[0].weight->data(), ch[0], C, in.data(), C * hw, hw, N, hw,
                      static_cast<const T*>(nullptr), (*z)[0].data());
  } else {
    T* planes;
    if (x_layout) {
      *x_layout = Tensor<T>::empty({C * L.len});
      planes = x_layout->data();
    } else {
      planes = plane_scratch<T>(0, C * L.len);
    }
    to_plane(x.data(), C, L, planes, relu_input);
    (*z)[0] = new_positions(ch[0]);
    conv_positions(static_cast<const T*>(planes), C, L, layers[0].weight->data(), ch[0],
                   (*z)[0].data(), k[0]);
  }
  // Each later layer's input planes are written by the previous layer's epilogue directly (the
  // activation is never NCHW), position for position.
  const T* mask = L.p > 0 ? pixel_mask<T>(L) : nullptr;
  for (std::size_t i = 1; i < m; ++i) {
    const ChainLayer<T>& prev = layers[i - 1];
    (*h)[i] = Tensor<T>::empty({ch[i - 1] * L.len});
    if (i == 1 && L.p == 0)
      affine_out(chain_z_rows((*z)[0], 0, ch[0], L), plane_rows((*h)[i].data(), ch[0], L),
                 ch[0], L, prev.scale, prev.shift, prev.relu, &L);
    else if (prev.relu)
      affine_positions_to_planes<T, true>((*z)[i - 1].data(), ch[i - 1], L, prev.scale,
                                          prev.shift, mask, (*h)[i].data());
    else
      affine_positions_to_planes<T, false>((*z)[i - 1].data(), ch[i - 1], L, prev.scale,
                                           prev.shift, mask, (*h)[i].data());
    (*z)[i] = new_positions(ch[i]);
    conv_positions(static_cast<const T*>((*h)[i].data()), ch[i - 1], L, layers[i].weight->data(),
                   ch[i], (*z)[i].data(), k[i]);
  }
  const ChainLayer<T>& last = layers[m - 1];
  Tensor<T> y = Tensor<T>::empty({N, ch[m - 1], H, W});
  affine_out(chain_z_rows((*z)[m - 1], m - 1, ch[m - 1], L), nchw_rows(y.data(), ch[m - 1], L),
             ch[m - 1], L, last.scale, last.shift, last.relu);
  return y;
}

template <typename T>
void conv2d_same_affine_chain_backward(const Tensor<T>& g, const Tensor<T>& x, bool relu_input,
                                       const std::vector<ChainLayer<T>>& layers,
                                       const std::vector<Tensor<T>>& z,
                                       const std::vector<Tensor<T>>& h,
                                       const Tensor<T>* x_layout, Tensor<T>* dx,
                                       std::vector<ChainGrads<T>>& grads) {
  const Shape& xs = x.shape();
  const std::size_t N = xs[0], H = xs[2], W = xs[3], V = xsimd::batch<T>::size;
  const std::size_t m = layers.size();
  const Plane L = chain_layout(xs, layers);
  std::vector<std::size_t> ch, k;
  for (std::size_t i = 0; i < m; ++i) {
    ch.push_back(layers[i].weight->shape()[0]);
    k.push_back(layers[i].weight->shape()[2]);
    const std::size_t want_z = i == 0 && L.p == 0 ? N * ch[i] * H * W : ch[i] * L.Q + V;
    const std::size_t in_ch = layers[i].weight->shape()[1];
    if (z[i].numel() != want_z || (i > 0 && h[i].numel() != in_ch * L.len))
      throw std::invalid_argument("conv2d_affine_chain backward: the saved activations of layer " +
                                  std::to_string(i) + " do not fit input " + shape_str(xs));
  }
  const T* mask = L.p > 0 ? pixel_mask<T>(L) : nullptr;
  // dz_i (planes) for layer i from dL/d(its output): NCHW for the last layer (row by row), else
  // the positions of the layer above's input-gradient GEMM (flat, masked).
  const T* dh = nullptr;
  auto layer_dz = [&](std::size_t i, T* dz) {
    const ChainLayer<T>& l = layers[i];
    T* ds = grads[i].scale.data();
    T* dt = grads[i].shift.data();
    if (i == m - 1)
      affine_grad_planes(nchw_rows(g.data(), ch[i], L), chain_z_rows(z[i], i, ch[i], L), ch[i], L,
                         l.scale, l.shift, l.relu, dz, ds, dt);
    else if (L.p == 0)  // the first of 1x1 layers only: z_0 is NCHW
      affine_grad_planes(position_rows(dh, ch[i], L), chain_z_rows(z[i], i, ch[i], L), ch[i], L,
                         l.scale, l.shift, l.relu, dz, ds, dt);
    else if (l.relu)
      affine_grad_positions<T, true>(dh, z[i].data(), ch[i], L, l.scale, l.shift, mask, dz, ds, dt);
    else
      affine_grad_positions<T, false>(dh, z[i].data(), ch[i], L, l.scale, l.shift, mask, dz, ds,
                                      dt);
  };
  // From the last layer down: dz_i, the weight gradient against layer i's input planes, and
  // dL/d(input of layer i) in positions, which the layer below reads in place.
  for (std::size_t i = m - 1; i > 0; --i) {
    const std::size_t in_ch = ch[i - 1];
    T* dz = plane_scratch<T>(0, ch[i] * L.len);
    layer_dz(i, dz);
    const std::vector<const T*> lines = tap_lines(h[i].data(), in_ch, L, k[i]);
    grads[i].weight = Tensor<T>::empty(layers[i].weight->shape());
    gemm_dots<T>(ch[i], in_ch * k[i] * k[i], L.Q, dz + L.q0, L.len, lines.data(),
                 grads[i].weight.data(), in_ch * k[i] * k[i]);
    const auto flipped = flip_weight(*layers[i].weight);
    T* next_dh = plane_scratch<T>(1, in_ch * L.Q + V);
    std::fill(next_dh + in_ch * L.Q, next_dh + in_ch * L.Q + V, T(0));
    conv_positions(static_cast<const T*>(dz), ch[i], L, flipped.data(), in_ch, next_dh, k[i]);
    dh = next_dh;
  }
  T* dz0 = plane_scratch<T>(0, ch[0] * L.len);  // the buffers above are no longer needed
  layer_dz(0, dz0);
  backward_from_dy_planes(static_cast<const T*>(dz0), L, &x, layers[0].weight, xs,
                          layers[0].weight->shape(), dx,
                          grads[0].weight_wanted ? &grads[0].weight : nullptr, x_layout,
                          relu_input);
}

#define FZ_INSTANTIATE_CONV_SAME(T)                                                         \
  template Tensor<T> conv2d_same(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,      \
                                 Tensor<T>*);                                                \
  template void conv2d_same_backward(const Tensor<T>&, const Tensor<T>*, const Tensor<T>*,  \
                                     const Shape&, const Shape&, Tensor<T>*, Tensor<T>*,    \
                                     const Tensor<T>*);                                      \
  template Tensor<T> conv2d_same_affine(const Tensor<T>&, const Tensor<T>&, const T*,       \
                                        const T*, bool, Tensor<T>*, Tensor<T>*, bool);      \
  template void conv2d_same_affine_backward(                                                \
      const Tensor<T>&, const Tensor<T>&, const T*, const T*, bool, const Tensor<T>*,         \
      const Tensor<T>*, const Shape&, const Shape&, Tensor<T>*, Tensor<T>*, T*, T*,           \
      const Tensor<T>*, bool);                                                              \
  template Tensor<T> conv2d_same_affine_chain(const Tensor<T>&, bool,                      \
                                              const std::vector<ChainLayer<T>>&,             \
                                              std::vector<Tensor<T>>*, std::vector<Tensor<T>>*, \
                                              Tensor<T>*);                                   \
  template void conv2d_same_affine_chain_backward(                                          \
      const Tensor<T>&, const Tensor<T>&, bool, const std::vector<ChainLayer<T>>&,            \
      const std::vector<Tensor<T>>&, const std::vector<Tensor<T>>&, const Tensor<T>*,          \
      Tensor<T>*, std::vector<ChainGrads<T>>&);
FZ_INSTANTIATE_CONV_SAME(float)
FZ_INSTANTIATE_CONV_SAME(double)
#undef FZ_INSTANTIATE_CONV_SAME

}  // namespace fz::detail
