// tensor/layout.hpp — layout ops: they move elements around without arithmetic.
//   permute, transpose, slice, concat, split, chunk, pad / unpad (constant padding and its
//   inverse crop), squeeze2d / unsqueeze2d (space-to-depth and back), flip.
// Every op returns a fresh contiguous tensor (Tensor has no strides or offsets, so no view).
// Instantiated for float, double and uint8_t (image batches).
// Axes may be negative (-1 = last). Bad axes, shapes or ranges throw std::out_of_range /
// std::invalid_argument naming the op and the shapes.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <utility>
#include <vector>

#include "tensor.hpp"

namespace fz {

// out.shape[i] = x.shape[axes[i]]; `axes` must be a permutation of 0..ndim-1 (negatives ok).
template <typename T> Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& axes);
// Swaps two axes.
template <typename T> Tensor<T> transpose(const Tensor<T>& x, int axis_a, int axis_b);

// Elements [start, stop) along `axis`. Negative start/stop count from the end (Python style,
// once); after that 0 <= start <= stop <= size must hold, otherwise std::out_of_range.
template <typename T> Tensor<T> slice(const Tensor<T>& x, int axis, long start, long stop);

// Joins tensors along `axis`; all other axes must agree. Needs at least one tensor.
template <typename T> Tensor<T> concat(const std::vector<Tensor<T>>& xs, int axis);
// So that concat({a, b}, 1) deduces T.
template <typename T>
Tensor<T> concat(std::initializer_list<Tensor<T>> xs, int axis) {
  return concat(std::vector<Tensor<T>>(xs), axis);
}

// Cuts x along `axis` into pieces of the given sizes (they must add up to the axis size).
template <typename T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const std::vector<std::size_t>& sizes, int axis);
// torch.chunk semantics: pieces of ceil(size / n) elements along `axis`, the last one possibly
// smaller (so fewer than n pieces come back when size is not a multiple of n, e.g. 5 -> 2,2,1).
template <typename T> std::vector<Tensor<T>> chunk(const Tensor<T>& x, std::size_t n, int axis);
// The piece sizes chunk() uses (shared with the differentiable chunk).
std::vector<std::size_t> chunk_sizes(std::size_t size, std::size_t n);

// Constant padding. widths[k] = {before, after} for the TRAILING widths.size() axes:
// widths[0] pads axis ndim - widths.size(), ..., widths.back() pads the last axis.
using PadWidths = std::vector<std::pair<std::size_t, std::size_t>>;
template <typename T> Tensor<T> pad(const Tensor<T>& x, const PadWidths& widths, T value = T(0));
// Inverse of pad: removes `before` and `after` elements on those trailing axes.
template <typename T> Tensor<T> unpad(const Tensor<T>& x, const PadWidths& widths);
// Pads the last two axes (H, W of NCHW): pad(x, {{top, bottom}, {left, right}}, value).
template <typename T>
Tensor<T> pad2d(const Tensor<T>& x, std::size_t top, std::size_t bottom, std::size_t left,
                std::size_t right, T value = T(0));

// Space-to-depth with factor 2: (N, C, H, W) -> (N, 4C, H/2, W/2); H and W must be even.
// Channel order position-major, in PyTorch
//   x.view(N, C, H/2, 2, W/2, 2).permute(0, 3, 5, 1, 2, 4).reshape(N, 4C, H/2, W/2):
//   out[n, (dy*2 + dx)*C + c, i, j] = x[n, c, 2i + dy, 2j + dx]      (dy, dx in {0, 1}).
// So the output channels come in four groups of C: top-left, top-right, bottom-left,
// bottom-right pixel of each 2x2 block. This is NOT the order of openai/glow and of most
// PyTorch Glow ports, which are channel-major (permute(0, 1, 3, 5, 2, 4): channel
// c*4 + dy*2 + dx); the two agree only for C = 1. A port of a flowzoo checkpoint must use
// this order (README "Python", python/flowzoo_torch.py squeeze2d).
template <typename T> Tensor<T> squeeze2d(const Tensor<T>& x);
// Depth-to-space, the exact inverse: (N, 4C, H, W) -> (N, C, 2H, 2W).
template <typename T> Tensor<T> unsqueeze2d(const Tensor<T>& x);

// Reverses the order of elements along `axis`.
template <typename T> Tensor<T> flip(const Tensor<T>& x, int axis);

}  // namespace fz
