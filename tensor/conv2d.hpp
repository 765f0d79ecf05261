// tensor/conv2d.hpp — 2-D convolution (cross-correlation, as in PyTorch) on NCHW tensors:
// forward, and the two backward passes (w.r.t. the input and w.r.t. weight and bias).
//
// x: (N, C_in, H, W), weight: (C_out, C_in, kh, kw), bias: (C_out) or an undefined Tensor.
// Output: (N, C_out, Ho, Wo) with Ho = (H + 2*padding - kh) / stride + 1 (same for W).
// "Same" convolutions (odd square kernel, stride 1, padding (k-1)/2, 1x1 included) run as one
// whole-batch GEMM without im2col (conv2d_same.cpp); the rest as im2col + GEMM per image.
#pragma once

#include <cstddef>

#include "tensor.hpp"

namespace fz {

// Output shape of conv2d; throws std::invalid_argument if the shapes do not fit.
Shape conv2d_output_shape(const Shape& x_shape, const Shape& weight_shape, std::size_t stride,
                          std::size_t padding);

// y = conv2d(x, weight) + bias.
// saved_input (for training): when given, receives the input as the fast path laid it out for
// its GEMM (left undefined when the path keeps no such layout); passing it back to
// conv2d_backward spares the weight gradient laying x out again, at the cost of holding that
// layout (about the size of x) until then.
template <typename T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                 std::size_t stride = 1, std::size_t padding = 0,
                 Tensor<T>* saved_input = nullptr);

// d loss / d x given grad_out = d loss / d y (shape of y); x_shape is the input's shape.
template <typename T>
Tensor<T> conv2d_backward_input(const Tensor<T>& grad_out, const Tensor<T>& weight,
                                const Shape& x_shape, std::size_t stride = 1,
                                std::size_t padding = 0);

// d loss / d weight given grad_out and the forward input x; weight_shape is the weight's shape.
template <typename T>
Tensor<T> conv2d_backward_weight(const Tensor<T>& grad_out, const Tensor<T>& x,
                                 const Shape& weight_shape, std::size_t stride = 1,
                                 std::size_t padding = 0);

// Which gradients a convolution's backward pass computes; one not wanted is left undefined.
struct ConvGradsWanted {
  bool input = true;
  bool weight = true;
};

// Both of the above in one call (only the wanted ones); the "same"-convolution path lays
// grad_out out once for the two, so autograd calls this. saved_input: what conv2d returned in
// its saved_input for this x (or null/undefined).
template <typename T>
struct Conv2dGrads {
  Tensor<T> input, weight;
};
template <typename T>
Conv2dGrads<T> conv2d_backward(const Tensor<T>& grad_out, const Tensor<T>& x,
                               const Tensor<T>& weight, std::size_t stride, std::size_t padding,
                               ConvGradsWanted wanted, const Tensor<T>* saved_input = nullptr);

// d loss / d bias: grad_out summed over batch and space, shape (C_out).
template <typename T>
Tensor<T> conv2d_backward_bias(const Tensor<T>& grad_out);

}  // namespace fz
