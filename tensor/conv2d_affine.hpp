// tensor/conv2d_affine.hpp — a convolution followed by a per-output-channel affine map and an
// optional ReLU (and optionally preceded by one), as one kernel:
//   z = conv2d(x', weight),  y = act(scale_o * z + shift_o),  act = ReLU or identity,
//   x' = relu(x) or x.
// Glow's coupling network is conv -> ActNorm -> ReLU (twice) and conv -> scale/shift (its
// zero-initialised output conv). Unfused, every ActNorm is an extra pass over an
// activation-sized tensor forward and two backward; here the affine map rides on the copy out
// of the convolution's GEMM, and its gradient on the copy of dL/dy into the GEMM's layout.
// RealNVP's ResNet conditioner is relu -> conv (+ bias) -> relu: both ReLUs ride on the copies
// into and out of the GEMM's layout the same way (scale 1, shift = bias).
// Same convolutions (conv2d_same.hpp) take that path; any other geometry composes the plain
// convolution with a separate per-channel pass (same results).
#pragma once

#include <cstddef>

#include "tensor/tensor.hpp"

namespace fz {

// What the backward pass needs from the forward pass (layouts are internal to the kernels).
template <typename T>
struct ConvAffineSaved {
  Tensor<T> z;         // the convolution's output, before the affine map
  Tensor<T> x_layout;  // the input as the GEMM read it (for the weight gradient), if kept
};

// y = act(scale_o * conv2d(x', weight) + shift_o); scale and shift have shape (C_out); relu:
// act = ReLU; relu_input: x' = relu(x). keep_x_layout: also keep the input's GEMM layout in
// saved->x_layout (training, when the weight needs its gradient).
template <typename T>
Tensor<T> conv2d_affine(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& scale,
                        const Tensor<T>& shift, bool relu, std::size_t stride,
                        std::size_t padding, ConvAffineSaved<T>* saved, bool keep_x_layout,
                        bool relu_input = false);

template <typename T>
struct ConvAffineGrads {
  Tensor<T> input, weight, scale, shift;  // input/weight undefined when not asked for
};

// Gradients of conv2d_affine from grad_y = dL/dy and what the forward pass saved.
template <typename T>
ConvAffineGrads<T> conv2d_affine_backward(const Tensor<T>& grad_y, const Tensor<T>& x,
                                          const Tensor<T>& weight, const Tensor<T>& scale,
                                          const Tensor<T>& shift, bool relu, std::size_t stride,
                                          std::size_t padding, const ConvAffineSaved<T>& saved,
                                          bool need_input, bool need_weight,
                                          bool relu_input = false);

// One layer of conv2d_affine_pair: weight (C_out, C_in, k, k), scale and shift (C_out), ReLU.
template <typename T>
struct ConvAffineLayer {
  const Tensor<T>& weight;
  const Tensor<T>& scale;
  const Tensor<T>& shift;
  bool relu;
};

template <typename T>
struct ConvAffinePairSaved {
  Tensor<T> z1, x_layout, h, z2;  // layouts internal to the kernels
};

// Two "same" convolutions (odd k, stride 1, padding (k-1)/2) in a row, each as conv2d_affine:
//   h = act1(scale1 * conv2d(x', w1) + shift1),  y = act2(scale2 * conv2d(h, w2) + shift2),
// with x' = relu(x) when relu_input. h exists only in the layout the second convolution's GEMM
// reads: the NCHW copy of h and its re-layout are skipped forward, and dL/dh goes from the
// second GEMM's output straight into the first layer's gradient pass backward. (Glow's
// conv1x1 -> ActNorm -> ReLU -> zero conv; RealNVP's relu -> conv -> relu -> conv.)
template <typename T>
Tensor<T> conv2d_affine_pair(const Tensor<T>& x, bool relu_input, const ConvAffineLayer<T>& first,
                             const ConvAffineLayer<T>& second, ConvAffinePairSaved<T>* saved,
                             bool keep_x_layout);

template <typename T>
struct ConvAffinePairGrads {
  Tensor<T> input, weight1, scale1, shift1, weight2, scale2, shift2;  // input/weight1 optional
};

template <typename T>
ConvAffinePairGrads<T> conv2d_affine_pair_backward(const Tensor<T>& grad_y, const Tensor<T>& x,
                                                   bool relu_input,
                                                   const ConvAffineLayer<T>& first,
                                                   const ConvAffineLayer<T>& second,
                                                   const ConvAffinePairSaved<T>& saved,
                                                   bool need_input, bool need_weight1);

}  // namespace fz
