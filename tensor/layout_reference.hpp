// tensor/layout_reference.hpp — the plain forms of the layout ops (tensor/layout.hpp) as
// xtensor views: xt::transpose for permute, xt::strided_view ranges for slice / concat / split /
// unpad, xt::pad, xt::flip, and squeeze2d as the reshape-permute-reshape every PyTorch flow
// writes. The ground truth the block-copy kernels are tested against, and what they run
// instead when reference_ops() is on. Namespace fz::reference; same errors as the fast ops;
// float, double and uint8_t.
#pragma once

#include "layout.hpp"

namespace fz::reference {

template <typename T> Tensor<T> permute(const Tensor<T>& x, const std::vector<int>& axes);
template <typename T> Tensor<T> transpose(const Tensor<T>& x, int axis_a, int axis_b);
template <typename T> Tensor<T> slice(const Tensor<T>& x, int axis, long start, long stop);
template <typename T> Tensor<T> concat(const std::vector<Tensor<T>>& xs, int axis);
template <typename T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const std::vector<std::size_t>& sizes, int axis);
template <typename T> std::vector<Tensor<T>> chunk(const Tensor<T>& x, std::size_t n, int axis);
template <typename T> Tensor<T> pad(const Tensor<T>& x, const PadWidths& widths, T value = T(0));
template <typename T> Tensor<T> unpad(const Tensor<T>& x, const PadWidths& widths);
template <typename T>
Tensor<T> pad2d(const Tensor<T>& x, std::size_t top, std::size_t bottom, std::size_t left,
                std::size_t right, T value = T(0));
template <typename T> Tensor<T> squeeze2d(const Tensor<T>& x);
template <typename T> Tensor<T> unsqueeze2d(const Tensor<T>& x);
template <typename T> Tensor<T> flip(const Tensor<T>& x, int axis);

}  // namespace fz::reference
