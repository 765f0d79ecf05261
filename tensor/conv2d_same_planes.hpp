// tensor/conv2d_same_planes.hpp — the plane layout of a "same" convolution's input (see
// conv2d_same.hpp for why it needs no im2col): Plane (where each pixel sits), the per-thread
// plane scratch, and the copies of NCHW data into planes (to_plane) and of GEMM output
// positions back to NCHW (from_positions), the tap lines GEMM reads in place, the flipped
// weight of the transposed convolution. Internal to tensor/.
//
// Which file has what (all in tensor/, namespace fz::detail; the same_conv namespace is internal):
//   conv2d_same.hpp           the entry points and the layout they share (read it first)
//   conv2d_same_planes.hpp    the plane layout (Plane) and the copies into and out of it
//   conv2d_same_gemm.hpp      the products over planes: forward positions, 1x1 per image,
//                             both gradients from dY in plane layout
//   conv2d_same_epilogue.hpp  the fused per-channel affine (+ ReLU) epilogue and its gradient
//   conv2d_same.cpp           conv2d_same, conv2d_same_backward
//   conv2d_same_affine.cpp    conv2d_same_affine and its backward
//   conv2d_same_chain.cpp     conv2d_same_affine_chain and its backward (with the flat
//                             epilogues between the layers of a chain)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "parallel.hpp"
#include "scratch.hpp"
#include "tensor.hpp"

namespace fz::detail::same_conv {

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

// The C planes x is laid out in for the forward pass: in a fresh tensor handed back through
// *keep (the backward pass reads them again for the weight gradient) when keep is given, else
// in this thread's scratch buffer 0.
template <typename T>
T* input_planes(Tensor<T>* keep, std::size_t C, const Plane& pl) {
  if (!keep) return plane_scratch<T>(0, C * pl.len);
  *keep = Tensor<T>::empty({C * pl.len});
  return keep->data();
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

}  // namespace fz::detail::same_conv
