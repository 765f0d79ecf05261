// autograd/ops_reduce.hpp — differentiable reductions on Var<T>: sum, mean, max, logsumexp,
// over all elements (a 0-d result) or over a list of axes (negatives allowed) with keepdim.
// Axis rules are those of tensor/reduce.hpp (an empty axis list reduces nothing).
// Gradients: sum and mean broadcast the incoming gradient back over the reduced axes; max
// sends it to the first maximal element only; logsumexp multiplies it by softmax(x).
// Second derivatives (grad(..., create_graph = true), autograd/grad.hpp): sum, mean, logsumexp,
// sum_to and broadcast_to; max refuses.
#pragma once

#include <vector>

#include "var.hpp"
#include "../tensor/reduce.hpp"

namespace fz {

template <typename T> Var<T> sum(const Var<T>& x);
template <typename T> Var<T> sum(const Var<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Var<T> sum(const Var<T>& x, int axis, bool keepdim = false);

template <typename T> Var<T> mean(const Var<T>& x);
template <typename T> Var<T> mean(const Var<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Var<T> mean(const Var<T>& x, int axis, bool keepdim = false);

template <typename T> Var<T> max(const Var<T>& x);
template <typename T> Var<T> max(const Var<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Var<T> max(const Var<T>& x, int axis, bool keepdim = false);

template <typename T> Var<T> logsumexp(const Var<T>& x);
template <typename T> Var<T> logsumexp(const Var<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Var<T> logsumexp(const Var<T>& x, int axis, bool keepdim = false);

// The broadcasting pair as ops (what the differentiable backwards of broadcasting ops use):
// sum_to reduces x to `shape` as fz::sum_to(Tensor) does (tensor/broadcast.hpp), broadcast_to
// repeats x up to `shape`; each is the other's backward. Both return x itself when its shape
// is already `shape` (no node).
template <typename T> Var<T> sum_to(const Var<T>& x, const Shape& shape);
template <typename T> Var<T> broadcast_to(const Var<T>& x, const Shape& shape);

}  // namespace fz
