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
#include <vector>

#include "conv2d.hpp"  // ConvGradsWanted
#include "tensor.hpp"

namespace fz {

// What the backward pass needs from the forward pass (layouts are internal to the kernels).
template <typename T>
struct ConvAffineSaved {
  Tensor<T> z;         // the convolution's output, before the affine map
  Tensor<T> x_layout;  // the input as the GEMM read it (for the weight gradient), if kept
};

// The geometry and the activations of conv2d_affine.
struct ConvAffineOptions {
  bool relu = false;        // act = ReLU after the affine map, else the identity
  bool relu_input = false;  // x' = relu(x): the convolution reads relu(x), else x
  std::size_t stride = 1;
  std::size_t padding = 0;
};

// y = act(scale_o * conv2d(x', weight) + shift_o); scale and shift have shape (C_out).
// keep_x_layout: also keep the input's GEMM layout in saved->x_layout (training, when the
// weight needs its gradient).
template <typename T>
Tensor<T> conv2d_affine(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& scale,
                        const Tensor<T>& shift, const ConvAffineOptions& options,
                        ConvAffineSaved<T>* saved, bool keep_x_layout);

template <typename T>
struct ConvAffineGrads {
  Tensor<T> input, weight, scale, shift;  // input/weight undefined when not asked for
};

// Gradients of conv2d_affine from grad_y = dL/dy and what the forward pass saved (options as
// in the forward pass; scale and shift gradients always, input and weight when wanted).
template <typename T>
ConvAffineGrads<T> conv2d_affine_backward(const Tensor<T>& grad_y, const Tensor<T>& x,
                                          const Tensor<T>& weight, const Tensor<T>& scale,
                                          const Tensor<T>& shift,
                                          const ConvAffineOptions& options,
                                          const ConvAffineSaved<T>& saved,
                                          ConvGradsWanted wanted);

// One layer of conv2d_affine_chain: weight (C_out, C_in, k, k), scale and shift (C_out), and
// whether a ReLU follows.
template <typename T>
struct ConvAffineLayer {
  const Tensor<T>& weight;
  const Tensor<T>& scale;
  const Tensor<T>& shift;
  bool relu;
};

template <typename T>
struct ConvAffineChainSaved {
  std::vector<Tensor<T>> z, h;  // per layer; layouts internal to the kernels
  Tensor<T> x_layout;
};

// "Same" convolutions (odd k, stride 1, padding (k-1)/2) in a row, each as conv2d_affine:
//   h_1 = act_0(scale_0 * conv2d(x', w_0) + shift_0), ..., y = act_m(scale_m * conv2d(h_m, w_m)
//   + shift_m), with x' = relu(x) when relu_input.
// Every h_i exists only in the layout layer i's GEMM reads: forward, each epilogue writes the
// next layer's input planes directly (no NCHW copy, no re-layout); backward, dL/dh_i goes from
// layer i's input-gradient GEMM straight into layer i-1's gradient pass. Glow's coupling
// network (conv3x3 -> ActNorm -> ReLU -> conv1x1 -> ActNorm -> ReLU -> zero conv) is one chain;
// RealNVP's residual branch (relu -> conv -> relu -> conv) another.
template <typename T>
Tensor<T> conv2d_affine_chain(const Tensor<T>& x, bool relu_input,
                              const std::vector<ConvAffineLayer<T>>& layers,
                              ConvAffineChainSaved<T>* saved, bool keep_x_layout);

// The chain's input checks alone, with conv2d_affine_chain's messages (std::invalid_argument):
// at least one layer, x 4-D, each layer a same convolution (square odd kernel, scale and shift
// of its output channels) taking the previous layer's channels. Its plain form
// (autograd/ops_conv.cpp, conv2d_affine_chain_reference) calls it to fail the same way.
template <typename T>
void check_conv2d_affine_chain(const Tensor<T>& x, const std::vector<ConvAffineLayer<T>>& layers);

template <typename T>
struct ConvAffineChainGrads {
  Tensor<T> input;                       // when asked for
  std::vector<Tensor<T>> weight, scale, shift;  // per layer (weight[0] only when asked for)
};

// wanted.weight: the first layer's weight gradient (the others are always computed).
template <typename T>
ConvAffineChainGrads<T> conv2d_affine_chain_backward(
    const Tensor<T>& grad_y, const Tensor<T>& x, bool relu_input,
    const std::vector<ConvAffineLayer<T>>& layers, const ConvAffineChainSaved<T>& saved,
    ConvGradsWanted wanted);

}  // namespace fz
