// autograd/ops_conv.hpp — differentiable 2-D convolution (NCHW, PyTorch conventions).
#pragma once

#include <cstddef>

#include "autograd/var.hpp"

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

// Two "same" convolutions in a row, each with its per-channel affine and ReLU, as one op:
//   h = act1(s1 * conv2d(x', w1) + t1),  y = act2(s2 * conv2d(h, w2) + t2),  x' = relu(x) when
// relu_input. Equal to conv2d_affine(conv2d_affine(x, w1, s1, t1, relu1, 1, p1, relu_input),
// w2, s2, t2, relu2, 1, p2), but h is never written out as a tensor of its own (see
// tensor/conv2d_affine.hpp): Glow's conv1x1 -> ActNorm -> ReLU -> zero conv and RealNVP's
// relu -> conv -> relu -> conv.
template <typename T>
Var<T> conv2d_affine_pair(const Var<T>& x, bool relu_input, const Var<T>& w1, const Var<T>& s1,
                          const Var<T>& t1, bool relu1, const Var<T>& w2, const Var<T>& s2,
                          const Var<T>& t2, bool relu2);

}  // namespace fz
