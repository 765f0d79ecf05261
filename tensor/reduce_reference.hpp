// tensor/reduce_reference.hpp — the plain forms of the reductions (tensor/reduce.hpp) as
// xtensor reducers (xt::sum, xt::mean, xt::amax, xt::argmax): the ground truth the chunked,
// double-accumulating fast reductions are tested against, and what they run instead when
// reference_ops() is on.
//
// Same names, signatures, axis rules (negative axes, an empty list reduces nothing, keepdim)
// and errors as tensor/reduce.hpp, in namespace fz::reference. One deliberate difference, the
// one a reader expects from the NumPy form: sums accumulate sequentially in T, so a float sum
// of many elements differs from the fast kernel's (double across blocks) by float rounding.
// NaN inputs to max/argmax are not defined here (the fast kernels propagate NaN).
#pragma once

#include <cstddef>
#include <vector>

#include "tensor/reduce.hpp"

namespace fz::reference {

template <typename T> Tensor<T> sum(const Tensor<T>& x);
template <typename T> Tensor<T> sum(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> sum(const Tensor<T>& x, int axis, bool keepdim = false);

template <typename T> Tensor<T> mean(const Tensor<T>& x);
template <typename T> Tensor<T> mean(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> mean(const Tensor<T>& x, int axis, bool keepdim = false);

template <typename T> Tensor<T> max(const Tensor<T>& x);
template <typename T> Tensor<T> max(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> max(const Tensor<T>& x, int axis, bool keepdim = false);
template <typename T>
Tensor<T> max_with_index(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim,
                         std::vector<std::size_t>& flat_index);

template <typename T> Tensor<T> logsumexp(const Tensor<T>& x);
template <typename T> Tensor<T> logsumexp(const Tensor<T>& x, const std::vector<int>& axes, bool keepdim = false);
template <typename T> Tensor<T> logsumexp(const Tensor<T>& x, int axis, bool keepdim = false);

template <typename T> std::vector<std::size_t> argmax(const Tensor<T>& x, int axis);

template <typename T>
Tensor<T> expand_reduced(const Tensor<T>& g, const Shape& in_shape, const std::vector<int>& axes,
                         T scale = T(1));

}  // namespace fz::reference
