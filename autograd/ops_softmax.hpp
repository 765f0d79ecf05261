// autograd/ops_softmax.hpp — differentiable softmax and log_softmax along one axis of a Var.
//
// Both keep the input's shape. They are computed with the max shift (x - max along the axis),
// so inputs like 1000 that overflow a naive exp(x) / sum(exp(x)) stay finite; an axis whose
// elements are all -inf gives softmax 0 and log_softmax -inf there (no NaN from -inf - -inf).
//
// logsumexp(x, axis, keepdim = false) — the third member of the family — lives in
// autograd/ops_reduce.hpp (a reduction: without keepdim the OUTPUT DROPS `axis`), stable in
// the same way; it is included here so one header gives all three.
//
// Axes may be negative (-1 = last); an axis outside [-ndim, ndim) or a 0-d input throws
// std::invalid_argument naming the op and the shape.
#pragma once

#include "ops_reduce.hpp"
#include "var.hpp"

namespace fz {

// exp(x_i - logsumexp(x)) along `axis`: non-negative, sums to 1 along `axis`.
template <typename T> Var<T> softmax(const Var<T>& x, int axis);
// x_i - logsumexp(x) along `axis` (finite where softmax underflows to 0).
template <typename T> Var<T> log_softmax(const Var<T>& x, int axis);

}  // namespace fz
