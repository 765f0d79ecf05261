// tensor/conv2d_same_gemm.hpp — the products a "same" convolution is made of, over the plane
// layout of conv2d_same_planes.hpp: conv_positions (the forward GEMM on tap lines),
// conv1x1_per_image (1x1 convolutions straight on NCHW data) and backward_from_dy_planes (both
// gradients from dY in plane layout). Internal to tensor/; see conv2d_same_planes.hpp for
// which file has what.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "conv2d_same.hpp"
#include "conv2d_same_planes.hpp"
#include "gemm.hpp"
#include "gemm_dots.hpp"
#include "gemm_skinny.hpp"
#include "parallel.hpp"
#include "tensor.hpp"

namespace fz::detail::same_conv {

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
// What is read and written: b (conv2d_same.hpp). relu_input: the convolution read relu(x), so
// dx is zeroed where x <= 0 and the weight gradient reads relu(x).
template <typename T>
void backward_from_dy_planes(const T* dy, const Plane& pl, const SameConvBackward<T>& b,
                             bool relu_input = false) {
  const Shape& xs = b.x_shape;
  const Shape& ws = b.weight_shape;
  const Tensor<T>* x = b.x;
  const Tensor<T>* weight = b.weight;
  const Tensor<T>* x_planes = b.x_planes;
  Tensor<T>* dx = b.dx;
  Tensor<T>* dw = b.dw;
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

}  // namespace fz::detail::same_conv
