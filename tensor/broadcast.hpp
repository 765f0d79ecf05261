// tensor/broadcast.hpp — NumPy broadcasting rules, broadcast_to, and sum_to: the ONE place
// that reduces a broadcast gradient back to an input's shape.
//
// Broadcasting (NumPy): shapes are aligned at their last axis; missing leading axes count as 1;
// two sizes are compatible when equal or when one of them is 1. (2,1,3) with (4,1) -> (2,4,3).
//
// BroadcastPlan is the shared machinery behind binary kernels and sum_to: it drops axes of
// output size 1 and merges neighbouring axes that broadcast the same way, so (N,C,H,W) with
// (C,1,1) becomes three "collapsed" axes [N | C | H*W] with per-operand strides 0 or dense.
// Every fast path then just looks at the collapsed form.
#pragma once

#include <cstddef>
#include <vector>

#include "shape.hpp"
#include "tensor.hpp"

namespace fz {

// The broadcast result of two shapes; throws std::invalid_argument naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// True when `from` broadcasts to exactly `to` (every axis of `from` is 1 or equal).
bool broadcastable_to(const Shape& from, const Shape& to);

// A contiguous copy of x broadcast to `shape` (x itself, shared, when shapes are equal).
// Throws std::invalid_argument when x's shape does not broadcast to `shape`.
template <typename T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape);

// Reduces g (the gradient of a broadcast result) to `shape` by summing over leading extra
// axes and over axes where `shape` has 1. Requires that `shape` broadcasts to g's shape.
// Returns g itself (shared buffer) when no summation is needed. Deterministic for a fixed
// thread count. Fast paths: same shape, scalar, (F,) from (N,F), (C,1,1)/(1,C,1,1) from
// (N,C,H,W), row sums; a general path handles any broadcast.
template <typename T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape);

// The collapsed description of out = f(a, b) with broadcasting (b may be absent: then only
// a's strides matter, as in broadcast_to and sum_to).
struct BroadcastPlan {
  Shape out_shape;                    // the full broadcast shape
  std::size_t numel = 0;              // elements of out_shape
  std::vector<std::size_t> sizes;     // collapsed axis sizes (no 1s); empty when numel <= 1
  std::vector<std::size_t> a_stride;  // element stride of a along each collapsed axis (0 = broadcast)
  std::vector<std::size_t> b_stride;  // same for b
};

// Plan for a (op) b over out = broadcast_shapes(a, b). `what` names the op in errors.
BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b, const char* what);

}  // namespace fz
