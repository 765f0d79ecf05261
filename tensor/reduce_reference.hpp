// tensor/reduce_reference.hpp — the plain forms of the reductions (tensor/reduce.hpp) as
// xtensor reducers (xt::sum, xt::mean, xt::amax, xt::argmax): the ground truth the chunked,
// double-accumulating fast reductions are tested against, and what they run instead when
// reference_ops() is on.
//
// Same names, signatures, axis rules (negative axes, an empty list reduces nothing, keepdim)
// and errors as tensor/reduce.hpp, in namespace fz::reference. Sums (also inside mean and
// logsumexp) are added up in order in double and rounded to T once, so a float sum is close to
// correctly rounded; the fast kernel adds float SIMD blocks first, so the two differ by float
// rounding (tests/tensor/test_reference_kernels.cpp shows a case). max propagates NaN like
// the fast kernel; max_with_index and argmax are not defined for NaN inputs here.
#pragma once

#include <cstddef>
#include <vector>

#include "reduce.hpp"

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
