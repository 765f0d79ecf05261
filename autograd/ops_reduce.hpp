// autograd/ops_reduce.hpp — differentiable reductions on Var<T>: sum, mean, max, logsumexp,
// over all elements (a 0-d result) or over a list of axes (negatives allowed) with keepdim.
// Axis rules are those of tensor/reduce.hpp (an empty axis list reduces nothing).
// Gradients: sum and mean broadcast the incoming gradient back over the reduced axes; max
// sends it to the first maximal element only; logsumexp multiplies it by softmax(x).
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

}  // namespace fz
