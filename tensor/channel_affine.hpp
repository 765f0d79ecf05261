// tensor/channel_affine.hpp — the per-channel affine map y[b, c, ...] = x[b, c, ...] * scale[c]
// + shift[c] (optionally clamped at 0: a ReLU after it), forward and backward, as SIMD/TBB
// kernels over flat buffers. The differentiable ops channel_affine / channel_affine_relu
// (autograd/ops_channel_affine.hpp) run on these; ActNorm and Glow's coupling network use them.
//
// x has shape (B, C, ...): every (b, c) pair is a contiguous row of `inner` elements (the
// product of the axes after the channel axis), so each row is one SIMD map with a scalar
// scale and shift. Per-channel gradient sums are accumulated per row and combined over the
// batch in a fixed order: the results do not depend on the thread count.
#pragma once

#include <cstddef>

#include "tensor.hpp"

namespace fz {

struct ChannelAffineOptions {
  bool relu = false;  // y = max(0, x * scale + shift), else the plain affine map
};

// Which gradients channel_affine_backward computes (the others stay undefined).
struct ChannelAffineGradsWanted {
  bool input = true, scale = true, shift = true;
};

template <typename T>
struct ChannelAffineGrads {
  Tensor<T> input, scale, shift;
};

// Throws std::invalid_argument naming `op` unless scale and shift are both (C) and x is
// (B, C, ...).
void check_channel_affine_shapes(const Shape& x, const Shape& scale, const Shape& shift,
                                 const char* op);

// y = x * scale_c + shift_c per channel (then max(0, .) when options.relu).
template <typename T>
Tensor<T> channel_affine_forward(const Tensor<T>& x, const Tensor<T>& scale,
                                 const Tensor<T>& shift, const ChannelAffineOptions& options);

// From grad_y = dL/dy: with m = [x * scale_c + shift_c > 0] under options.relu (else m = 1),
//   dL/dx = grad_y m scale_c,  dL/dscale_c = sum grad_y m x,  dL/dshift_c = sum grad_y m
// (sums over every axis but 1). The ReLU's mask is recomputed from x with the forward's own
// fma, so it is bit-identical to the forward's and y need not be kept.
template <typename T>
ChannelAffineGrads<T> channel_affine_backward(const Tensor<T>& grad_y, const Tensor<T>& x,
                                              const Tensor<T>& scale, const Tensor<T>& shift,
                                              const ChannelAffineOptions& options,
                                              ChannelAffineGradsWanted wanted);

}  // namespace fz
