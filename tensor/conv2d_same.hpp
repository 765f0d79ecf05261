// tensor/conv2d_same.hpp — the fast path of conv2d for "same" convolutions: square odd kernel
// k, stride 1, padding (k - 1) / 2 (every convolution of the flow models: 3x3 pad 1, 1x1).
//
// Instead of an im2col copy per image, the whole batch is laid out once per channel as a
// "plane": the images stacked vertically, each row followed by p = (k-1)/2 zeros and each image
// by p zero rows, so that the zeros double as the padding of both neighbours. In that layout
// the input pixel under kernel tap (ki, kj) of output position q is simply q + (ki-p)*R + (kj-p)
// (R = W + p, the row width), so the im2col matrix row of (channel, ki, kj) is a contiguous
// run of the plane starting at a fixed offset: GEMM reads it in place (gemm_lines), and the
// whole batch is ONE product of C_out x (C_in*k*k) by (C_in*k*k) x (positions) — large enough
// to use both cores and to pack the weight once. Outputs at separator positions are computed
// and thrown away (15% extra work at 14x14 with p = 1, none for 1x1).
//   forward:          Y = Wm @ lines(x)
//   backward input:   dx = same convolution of dy with the weight flipped in space and
//                     transposed in channels (stride 1 makes the transposed conv a conv)
//   backward weight:  dWm = dY @ lines(x)^T as tiled dot products (gemm_dots), with dY in
//                     plane layout (zeros at separators: thrown-away positions add nothing)
// 1x1 convolutions skip the planes where they can (one GEMM per image on NCHW data). The same
// machinery runs the fused forms of tensor/conv2d_affine.hpp: a per-channel affine map and
// ReLUs applied on the copies into and out of the planes, and chains of convolutions whose
// activations go from one GEMM's output straight into the next one's planes.
// The implementation is split by concern; conv2d_same.cpp's header says which file has what.
#pragma once

#include <cstddef>
#include <vector>

#include "conv2d_affine.hpp"  // ConvAffineSaved, ConvAffineChainSaved
#include "tensor.hpp"

namespace fz::detail {

// True when conv2d with this weight, stride and padding is a "same" convolution.
bool conv2d_is_same(const Shape& weight_shape, std::size_t stride, std::size_t padding);

// keep_planes: when non-null and the convolution uses planes (k > 1), the input planes are
// built in a tensor handed back here (for SameConvBackward::x_planes) instead of scratch.
template <typename T>
Tensor<T> conv2d_same(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias,
                      Tensor<T>* keep_planes = nullptr);

// What the backward pass of a same convolution reads and where it writes. The two gradients
// share one layout of grad_out; a null dx or dw skips that gradient.
template <typename T>
struct SameConvBackward {
  Shape x_shape, weight_shape;          // the forward pass's shapes
  const Tensor<T>* x = nullptr;         // the forward input: needed for dw (and for relu_input)
  const Tensor<T>* weight = nullptr;    // needed for dx
  const Tensor<T>* x_planes = nullptr;  // the planes the forward pass kept for x (null or
                                        // undefined: x is laid out again)
  Tensor<T>* dx = nullptr;              // receives dL/dx
  Tensor<T>* dw = nullptr;              // receives dL/dweight
};

template <typename T>
void conv2d_same_backward(const Tensor<T>& grad_out, const SameConvBackward<T>& b);

// The fused per-output-channel epilogue (tensor/conv2d_affine.hpp) of conv2d_same_affine:
// z = conv(x', weight), y = act(scale_o * z + shift_o).
template <typename T>
struct SameAffine {
  const T* scale = nullptr;  // C_out values
  const T* shift = nullptr;  // C_out values
  bool relu = false;         // act = ReLU, else the identity
  bool relu_input = false;   // x' = relu(x), else x
};

// saved.z receives z in an internal layout for conv2d_same_affine_backward; keep_x_layout:
// saved.x_layout receives the planes of x' (as keep_planes of conv2d_same), else it is left
// undefined.
template <typename T>
Tensor<T> conv2d_same_affine(const Tensor<T>& x, const Tensor<T>& weight,
                             const SameAffine<T>& affine, ConvAffineSaved<T>& saved,
                             bool keep_x_layout);

// Its backward from grad_y = dL/dy and the forward pass's z: dscale/dshift (C_out values each,
// always written), and dx, dw as for conv2d_same_backward (conv.x_planes: the forward pass's
// saved.x_layout).
template <typename T>
void conv2d_same_affine_backward(const Tensor<T>& grad_y, const Tensor<T>& z_saved,
                                 const SameAffine<T>& affine, const SameConvBackward<T>& conv,
                                 T* dscale, T* dshift);

// Same convolutions with affine epilogues in a row (tensor/conv2d_affine.hpp,
// conv2d_affine_chain): layer i computes act_i(scale_i * conv(input_i, weight_i) + shift_i),
// input_0 = x (or relu(x) when relu_input), input_i = layer i-1's output, which exists only in
// layer i's plane layout. Fills saved.z (each layer's convolution output), saved.h (h[i]: layer
// i's input planes, i >= 1) and, when keep_x_layout, saved.x_layout for the backward pass.
template <typename T>
struct ChainLayer {
  const Tensor<T>* weight;
  const T* scale;
  const T* shift;
  bool relu;
};
template <typename T>
Tensor<T> conv2d_same_affine_chain(const Tensor<T>& x, bool relu_input,
                                   const std::vector<ChainLayer<T>>& layers,
                                   ConvAffineChainSaved<T>& saved, bool keep_x_layout);

// Its backward: every layer's weight (layer 0's only when weight_wanted), scale and shift
// gradients into grads (scale/shift preallocated to C_out values), dx when non-null.
template <typename T>
struct ChainGrads {
  Tensor<T> weight, scale, shift;
  bool weight_wanted = true;
};
template <typename T>
void conv2d_same_affine_chain_backward(const Tensor<T>& g, const Tensor<T>& x, bool relu_input,
                                       const std::vector<ChainLayer<T>>& layers,
                                       const ConvAffineChainSaved<T>& saved, Tensor<T>* dx,
                                       std::vector<ChainGrads<T>>& grads);

}  // namespace fz::detail
