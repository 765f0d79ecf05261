// autograd/ops_index.hpp — index-based ops on Var<T>: searchsorted (bin lookup, returns
// indices), gather (differentiable in x) and where (differentiable in both branches). These
// are what a spline transformer needs to pick each element's bin and that bin's knots.
//
// Indices are carried by IndexTensor: a shape plus row-major std::size_t values. Tensor<T> is
// only instantiated for float, double and uint8_t, and indices are never differentiated, so
// they get their own small type instead of being smuggled through floating point.
//
// Errors (bad axes, mismatched shapes, indices out of range, non 0/1 masks) throw
// std::invalid_argument naming the op and the shapes.
#pragma once

#include <cstddef>
#include <vector>

#include "var.hpp"
#include "../tensor/tensor.hpp"

namespace fz {

// A row-major array of indices: values[k] is the element at flat position k of `shape`.
struct IndexTensor {
  Shape shape;
  std::vector<std::size_t> values;

  std::size_t numel() const { return values.size(); }
  std::size_t operator[](std::size_t k) const { return values[k]; }
};

// Bin lookup along the last axis. edges: (R..., E) with E >= 2, each row sorted ascending
// (E edges bound nbins = E - 1 bins); values: (R..., M), same leading axes R... as edges (M any,
// 1 for "one value per row"). Result: shape of values, where entry (r, m) is the bin i with
// edges[r, i] <= values[r, m] < edges[r, i + 1], clamped to [0, nbins - 1]: values below the
// first edge go to bin 0, values at or above the last edge to bin nbins - 1 (so the top edge
// itself lands in the last bin, as a spline needs). A NaN value gets bin 0. Rows are not
// checked for sortedness (that would cost as much as the search); unsorted rows give some bin
// in range, never an out-of-range index.
template <typename T>
IndexTensor searchsorted(const Tensor<T>& edges, const Tensor<T>& values);
template <typename T>
IndexTensor searchsorted(const Var<T>& edges, const Var<T>& values) {
  return searchsorted(edges.value(), values.value());
}

// torch.gather: out has index's shape and out[..., j, ...] = x[..., index[..., j, ...], ...]
// along `axis`. index must have x's number of axes and x's sizes on every axis except `axis`
// (there any size, e.g. 1 to pick one element per line); every index < x.shape[axis].
// Gradient: scatter-add of g into x's shape (an element picked twice gets both gradients).
template <typename T> Var<T> gather(const Var<T>& x, int axis, const IndexTensor& index);

// Elementwise select: out = condition ? a : b, with NumPy broadcasting among condition, a and b
// (the output has their common shape). condition is a constant mask whose entries must be
// exactly 0 or 1. Gradient: g goes to a where condition is 1 and to b where it is 0 (each
// reduced back to its input's shape by sum_to), never to the unselected side.
template <typename T> Var<T> where(const Tensor<T>& condition, const Var<T>& a, const Var<T>& b);

}  // namespace fz
