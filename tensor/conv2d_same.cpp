// tensor/conv2d_same.cpp — "same" convolutions (odd k, stride 1, padding (k-1)/2) as one GEMM
// over the whole batch, reading the input's shifted rows in place. See conv2d_same.hpp for
// the plane layout and why it needs no im2col.
#include "tensor/conv2d_same.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "tensor/gemm.hpp"
#include "tensor/gemm_dots.hpp"
#include "tensor/gemm_skinny.hpp"
#include "tensor/parallel.hpp"
#include "tensor/scratch.hpp"

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

// dst row h [0, n) = src row h [0, n) + add, for `rows` rows of n values. Image rows here are
// short (7, 14 or 28 floats), so the scalar tail of each row would cost as much as the vector
// part: instead, a row is copied in whole vectors that run past its end into the next row (or
// the row's padding), which is then rewritten in order. Only the rows whose overrun would
// leave the block (the image's last row or two) copy their tail exactly. Callers re-zero any
// padding between rows afterwards.
template <typename T>
inline void copy_rows(const T* __restrict src, std::size_t src_stride, T* __restrict dst,
                      std::size_t dst_stride, std::size_t rows, std::size_t n, T add) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  const B vadd(add);
  const std::size_t whole = (n + W - 1) / W * W;  // n rounded up to whole vectors
  const std::size_t src_end = (rows - 1) * src_stride + n, dst_end = (rows - 1) * dst_stride + n;
  for (std::size_t h = 0; h < rows; ++h) {
    const T* s = src + h * src_stride;
    T* d = dst + h * dst_stride;
    std::size_t i = 0;
    if (h * src_stride + whole <= src_end && h * dst_stride + whole <= dst_end) {
      for (; i < n; i += W) (B::load_unaligned(s + i) + vadd).store_unaligned(d + i);
      continue;
    }
    for (; i + W <= n; i += W) (B::load_unaligned(s + i) + vadd).store_unaligned(d + i);
    for (; i < n; ++i) d[i] = s[i] + add;
  }
}

// NCHW tensor data (N, C, H, W) -> C planes of pl.len floats, zeros everywhere but the pixels.
template <typename T>
void to_plane(const T* src, std::size_t C, const Plane& pl, T* dst) {
  const std::size_t hw = pl.H * pl.W;
  parallel_for(C, std::max<std::size_t>(1, kParallelGrain / (pl.len + 1)),
               [&](std::size_t c0, std::size_t c1) {
                 for (std::size_t c = c0; c < c1; ++c) {
                   T* plane = dst + c * pl.len;
                   if (pl.p == 0) {  // no padding: each image is one contiguous run
                     for (std::size_t n = 0; n < pl.N; ++n)
                       std::memcpy(plane + pl.q0 + pl.pos(n, 0, 0), src + (n * C + c) * hw,
                                   hw * sizeof(T));
                     continue;
                   }
                   // Pixels row by row, each followed by its p zeros; p zero rows per image;
                   // zeros before the first and after the last position the taps reach.
                   std::fill(plane, plane + pl.q0, T(0));
                   for (std::size_t n = 0; n < pl.N; ++n) {
                     const T* image = src + (n * C + c) * hw;
                     T* rows = plane + pl.q0 + pl.pos(n, 0, 0);
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

// Y (C_out rows of pl.Q positions) -> NCHW output, dropping the separators, adding the bias.
template <typename T>
void from_positions(const T* Y, const T* bias, std::size_t Cout, const Plane& pl, T* out) {
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
                 }
               });
}

// The im2col row of (c, ki, kj) is the run of channel c's plane shifted by the tap's offset.
template <typename T>
std::vector<const T*> tap_lines(const T* planes, std::size_t C, const Plane& pl) {
  std::vector<const T*> lines(C * pl.k * pl.k);
  const std::ptrdiff_t p = static_cast<std::ptrdiff_t>(pl.p), R = static_cast<std::ptrdiff_t>(pl.R);
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t ki = 0; ki < pl.k; ++ki)
      for (std::size_t kj = 0; kj < pl.k; ++kj) {
        const std::ptrdiff_t shift = (std::ptrdiff_t(ki) - p) * R + (std::ptrdiff_t(kj) - p);
        lines[(c * pl.k + ki) * pl.k + kj] = planes + c * pl.len + pl.q0 + shift;
      }
  return lines;
}

// out (N, Cout, H, W) = same-convolution of the C planes (laid out by to_plane) with
// wm (Cout, C*k*k) + bias; Y is scratch for Cout * pl.Q values.
template <typename T>
void conv_planes(const T* planes, std::size_t C, const Plane& pl, const T* wm, std::size_t Cout,
                 const T* bias, T* Y, T* out) {
  const std::vector<const T*> lines = tap_lines(planes, C, pl);
  const std::size_t ckk = C * pl.k * pl.k;
  // A few output channels (the zero-initialised last conv of a coupling, the input gradient
  // of its first conv): packing the input rows would cost as much as the multiply-adds.
  if (Cout <= kSkinnyMaxRows)
    gemm_skinny_lines<T>(Cout, pl.Q, ckk, wm, ckk, lines.data(), Y, pl.Q);
  else
    gemm_lines<T>(false, Cout, pl.Q, ckk, T(1), wm, ckk, lines.data(), false, T(0), Y, pl.Q);
  from_positions(Y, bias, Cout, pl, out);
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
// matrix, so out_n (Cout x HW) = op(W) in_n is one GEMM per image, written straight into the
// NCHW output (no copies in or out — for these FLOP-light convs the copies cost as much as
// the product). op(W) is W (Cout x C) for the forward pass and W^T for the input gradient.
// Images run in parallel, each GEMM on one thread.
template <typename T>
void conv1x1_per_image(bool transpose_weight, const T* weight, std::size_t Cout, std::size_t C,
                       const T* in, std::size_t N, std::size_t hw, const T* bias, T* out) {
  const std::size_t rows = transpose_weight ? C : Cout, depth = transpose_weight ? Cout : C;
  parallel_for(N, 1, [&](std::size_t n0, std::size_t n1) {
    for (std::size_t n = n0; n < n1; ++n) {
      T* o = out + n * rows * hw;
      if (bias)  // start each output channel at its bias and add the product onto it
        for (std::size_t r = 0; r < rows; ++r) std::fill(o + r * hw, o + (r + 1) * hw, bias[r]);
      gemm<T>(transpose_weight, false, rows, hw, depth, T(1), weight, C, in + n * depth * hw, hw,
              bias ? T(1) : T(0), o, hw, /*parallel=*/false);
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
    conv1x1_per_image(false, weight.data(), Cout, C, x.data(), N, pl.H * pl.W,
                      bias.defined() ? bias.data() : nullptr, y.data());
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
  conv_planes(planes, C, pl, weight.data(), Cout, bias.defined() ? bias.data() : nullptr,
              plane_scratch<T>(1, Cout * pl.Q), y.data());
  return y;
}

// Both gradients from one plane layout of dY:
//   dx  = conv(dY, W'), W' the flipped, channel-transposed weight: each input pixel gathers the
//         output gradients of every position whose kernel covered it;
//   dWm = dY (Cout x positions) . lines(x)^T, with dY zero at the separators, so positions
//         that were thrown away in the forward pass add nothing.
template <typename T>
void conv2d_same_backward(const Tensor<T>& grad_out, const Tensor<T>* x, const Tensor<T>* weight,
                          const Shape& xs, const Shape& ws, Tensor<T>* dx, Tensor<T>* dw,
                          const Tensor<T>* x_planes) {
  const std::size_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const std::size_t Cout = ws[0], k = ws[2];
  const Plane pl(N, H, W, k);
  if (dx && k == 1) {
    *dx = Tensor<T>::empty(xs);
    conv1x1_per_image(true, weight->data(), Cout, C, grad_out.data(), N, H * W,
                      static_cast<const T*>(nullptr), dx->data());
    dx = nullptr;  // done
  }
  T* dy = plane_scratch<T>(0, Cout * pl.len);
  if (dx || dw) to_plane(grad_out.data(), Cout, pl, dy);
  if (dx) {
    const auto flipped = flip_weight(*weight);
    *dx = Tensor<T>::empty(xs);
    conv_planes(static_cast<const T*>(dy), Cout, pl, flipped.data(), C, static_cast<const T*>(nullptr),
                plane_scratch<T>(1, C * pl.Q), dx->data());
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
      to_plane(x->data(), C, pl, fresh);
      planes = fresh;
    }
    const std::vector<const T*> lines = tap_lines(planes, C, pl);
    const std::size_t ckk = C * k * k;
    *dw = Tensor<T>::empty(ws);
    gemm_dots<T>(Cout, ckk, pl.Q, dy + pl.q0, pl.len, lines.data(), dw->data(), ckk);
  }
}

#define FZ_INSTANTIATE_CONV_SAME(T)                                                         \
  template Tensor<T> conv2d_same(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&,      \
                                 Tensor<T>*);                                                \
  template void conv2d_same_backward(const Tensor<T>&, const Tensor<T>*, const Tensor<T>*,  \
                                     const Shape&, const Shape&, Tensor<T>*, Tensor<T>*,    \
                                     const Tensor<T>*);
FZ_INSTANTIATE_CONV_SAME(float)
FZ_INSTANTIATE_CONV_SAME(double)
#undef FZ_INSTANTIATE_CONV_SAME

}  // namespace fz::detail
