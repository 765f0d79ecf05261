// autograd/ops_channel_affine.hpp — the per-channel affine map y = x * scale_c + shift_c as a
// differentiable op, with its ReLU-fused twin, and the plain compositions of primitive ops both
// are equal to (what reference_ops() runs; tests/autograd/test_reference_ops.cpp holds them
// equal). ActNorm's (x + b) e^s and Glow's coupling network use them.
#pragma once

#include "var.hpp"

namespace fz {

// y[b, c, ...] = x[b, c, ...] * scale[c] + shift[c] for x of shape (B, C, ...) and scale,
// shift of shape (C): one fused, differentiable pass (tensor/channel_affine.hpp) instead of a
// broadcast multiply and a broadcast add, each with its own output and backward pass.
// dL/dx = G * scale_c, dL/dscale_c = sum G * x, dL/dshift_c = sum G (sums over all axes but 1).
template <typename T>
Var<T> channel_affine(const Var<T>& x, const Var<T>& scale, const Var<T>& shift);

// max(0, channel_affine(x, scale, shift)) in one pass (Glow's ActNorm -> ReLU): the tape keeps
// one tensor instead of two and the backward makes one pass instead of two.
template <typename T>
Var<T> channel_affine_relu(const Var<T>& x, const Var<T>& scale, const Var<T>& shift);

// The plain forms: x * reshape(scale, (1, C, 1, ...)) + reshape(shift, (1, C, 1, ...)) with
// broadcasting, and relu of it. Same arguments, same errors.
template <typename T>
Var<T> channel_affine_reference(const Var<T>& x, const Var<T>& scale, const Var<T>& shift);
template <typename T>
Var<T> channel_affine_relu_reference(const Var<T>& x, const Var<T>& scale, const Var<T>& shift);

// (1, C, 1, ...) with as many trailing 1s as x has axes after the channel axis: the shape a
// per-channel vector broadcasts against x with.
Shape channel_broadcast_shape(const Shape& x, std::size_t channels);

}  // namespace fz
