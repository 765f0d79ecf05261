// autograd/ops_matmul.hpp — differentiable matrix products: matmul (2-D and batched) and
// linear (a fully connected layer, y = x W^T + b with W shaped (out, in) as in PyTorch), and
// linear_relu, the same layer with its ReLU fused in (the hidden layers of MLP conditioners).
// All three have second derivatives (grad(..., create_graph = true), autograd/grad.hpp).
#pragma once

#include "var.hpp"

namespace fz {

// a @ b with the shapes of fz::matmul(Tensor, Tensor): 2-D, or batched 3-D with a batch of 1
// (or a 2-D operand) broadcast. d/da = G b^T, d/db = a^T G (summed over broadcast batches).
template <typename T>
Var<T> matmul(const Var<T>& a, const Var<T>& b);

// y = x W^T + b. x: (..., in) — any leading axes, W: (out, in), b: (out) or an undefined Var
// (no bias). y: (..., out). d/dx = G W, d/dW = G^T x, d/db = sum of G over leading axes.
template <typename T>
Var<T> linear(const Var<T>& x, const Var<T>& weight, const Var<T>& bias = Var<T>());

// relu(linear(x, weight, bias)) as one op: the forward applies max(0, .) to the product in
// place and the backward masks G once (by y > 0) before the three products. Equal to the two
// ops, with one tape node, one output buffer and no separate ReLU passes.
template <typename T>
Var<T> linear_relu(const Var<T>& x, const Var<T>& weight, const Var<T>& bias = Var<T>());

// The plain forms (what reference_ops() runs; tests/autograd/test_reference_ops.cpp holds them
// equal): linear = reshape(matmul(reshape(x, (rows, in)), transpose(W)) + b, (..., out)) — the
// fused op adds the bias inside the product instead — and linear_relu = relu(that).
template <typename T>
Var<T> linear_reference(const Var<T>& x, const Var<T>& weight, const Var<T>& bias = Var<T>());
template <typename T>
Var<T> linear_relu_reference(const Var<T>& x, const Var<T>& weight, const Var<T>& bias = Var<T>());

}  // namespace fz
