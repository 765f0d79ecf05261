// autograd/ops_conv.hpp — differentiable 2-D convolution (NCHW, PyTorch conventions), the
// fused convolution + per-channel affine (+ ReLU) ops, and their plain reference forms.
#pragma once

#include <cstddef>
#include <vector>

#include "var.hpp"

namespace fz {

// y = conv2d(x, weight) + bias. x: (N, C_in, H, W), weight: (C_out, C_in, kh, kw),
// bias: (C_out) or an undefined Var (no bias). Backward uses the tensor-level
// conv2d_backward_input / _weight / _bias kernels.
template <typename T>
Var<T> conv2d(const Var<T>& x, const Var<T>& weight, const Var<T>& bias = Var<T>(),
              std::size_t stride = 1, std::size_t padding = 0);

// y = act(scale_o * conv2d(x', weight) + shift_o), act = ReLU when relu (else identity),
// x' = relu(x) when relu_input (else x), as one op (tensor/conv2d_affine.hpp): Glow's
// conv -> ActNorm (-> ReLU) and RealNVP's relu -> conv -> relu without the extra passes.
// scale and shift: (C_out). Equal to relu(conv2d(x, w) * scale + shift) with broadcasting.
template <typename T>
Var<T> conv2d_affine(const Var<T>& x, const Var<T>& weight, const Var<T>& scale,
                     const Var<T>& shift, bool relu, std::size_t stride = 1,
                     std::size_t padding = 0, bool relu_input = false);

// One layer of conv2d_affine_chain: y = act(scale * conv2d(x, weight) + shift), act = ReLU
// when relu.
template <typename T>
struct ConvAffineVars {
  Var<T> weight, scale, shift;
  bool relu;
};

// "Same" convolutions in a row, each with its per-channel affine and optional ReLU, as one op
// (tensor/conv2d_affine.hpp): equal to applying conv2d_affine layer by layer (the first with
// relu_input), but the activations between layers are never written out as tensors of their
// own. Glow's coupling network and RealNVP's residual branch.
template <typename T>
Var<T> conv2d_affine_chain(const Var<T>& x, bool relu_input,
                           const std::vector<ConvAffineVars<T>>& layers);

// The plain forms, from primitive ops (conv2d, reshape, broadcast mul / add, relu): what the
// fused ops above equal to rounding, and run under reference_ops() (tensor/reference_mode.hpp).
//   conv2d_affine_reference:       act(conv2d(x', w) * scale_b + shift_b), x' = relu(x) or x,
//                                  scale_b, shift_b = scale, shift reshaped to (1, C_out, 1, 1)
//   conv2d_affine_chain_reference: conv2d_affine_reference layer by layer, padding (k - 1) / 2
template <typename T>
Var<T> conv2d_affine_reference(const Var<T>& x, const Var<T>& weight, const Var<T>& scale,
                               const Var<T>& shift, bool relu, std::size_t stride = 1,
                               std::size_t padding = 0, bool relu_input = false);
template <typename T>
Var<T> conv2d_affine_chain_reference(const Var<T>& x, bool relu_input,
                                     const std::vector<ConvAffineVars<T>>& layers);

}  // namespace fz
