// tensor/reduce.hpp — reductions: sum, mean, max, logsumexp (over all elements or over a set
// of axes, with keepdim), argmax along one axis, and expand_reduced, which broadcasts a
// reduced result back over the reduced axes (the shape rule every reduction's gradient needs).
//
// Axis lists: negative axes count from the end; duplicates are an error; an EMPTY list means
// "reduce nothing" (the result is a copy), as in NumPy's axis=() — so "sum over all axes but
// 0" of a 1-d tensor is naturally the identity. The all-elements overloads return a 0-d tensor.
//
// Determinism: work is split into chunks whose boundaries depend only on the shape (never on
// the thread count or timing), and per-chunk partial results are combined in a fixed order,
// so results are bit-identical run to run and across thread counts. Sums of float inputs are
// accumulated in float within short SIMD blocks and in double across blocks, so a 4M-element
// sum keeps ~1e-7 relative accuracy.
#pragma once

#include <cstddef>
#include <vector>

#include "tensor.hpp"

namespace fz {

// Sum of every element, as a 0-d tensor (an empty tensor sums to 0).
template <typename T> Tensor<T> sum(const Tensor<T>& x);
// Sum over `axes`; reduced axes are dropped, or kept with size 1 when keepdim.
template <typename T> Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> sum(const Tensor<T>& x, int axis, bool keepdim = false);

// Arithmetic mean (sum / count). The mean over zero elements is NaN.
template <typename T> Tensor<T> mean(const Tensor<T>& x);
template <typename T> Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> mean(const Tensor<T>& x, int axis, bool keepdim = false);

// Maximum (NaN propagates). Throws std::invalid_argument when reducing over zero elements.
template <typename T> Tensor<T> max(const Tensor<T>& x);
template <typename T> Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> max(const Tensor<T>& x, int axis, bool keepdim = false);

// Maximum plus, for each output element, the flat (row-major) index into x of the FIRST
// maximal element (row-major order within the reduced elements). Used by max's gradient.
template <typename T>
Tensor<T> max_with_index(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim,
                         std::vector<std::size_t>& flat_index);

// log(sum(exp(x))), computed stably as m + log(sum(exp(x - m))) with m the max. Over zero
// elements it is -inf; if every element is -inf the result is -inf.
template <typename T> Tensor<T> logsumexp(const Tensor<T>& x);
template <typename T> Tensor<T> logsumexp(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> logsumexp(const Tensor<T>& x, int axis, bool keepdim = false);

// Index (along `axis`) of the first maximal element, for every position of the other axes,
// in row-major order of the result shape (x's shape without `axis`, or with it as 1 when
// keepdim — the order is the same). Throws for an empty axis.
template <typename T> std::vector<std::size_t> argmax(const Tensor<T>& x, int axis);

// Shape of the result of reducing `in_shape` over `axes` (validated, negatives allowed).
Shape reduced_shape(const Shape& in_shape, const std::vector<int>& axes, bool keepdim);

// Broadcasts g — the result of a reduction of a tensor of shape `in_shape` over `axes`, with
// or without keepdim — back to `in_shape`, multiplying by `scale`:
// out[i] = scale * g[the output element that input element i was reduced into].
template <typename T>
Tensor<T> expand_reduced(const Tensor<T>& g, const Shape& in_shape, const std::vector<int>& axes,
                         T scale = T(1));

}  // namespace fz
