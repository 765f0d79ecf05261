// autograd/ops_layout.hpp — differentiable layout ops on Var<T>: reshape, permute, transpose,
// slice, concat, split, chunk, pad, squeeze2d, unsqueeze2d, flip. Shapes, axis rules and the
// squeeze2d channel order are those of tensor/layout.hpp. Each backward is the inverse
// rearrangement of the incoming gradient (a layout op's Jacobian is a 0/1 selection matrix).
#pragma once

#include <initializer_list>
#include <vector>

#include "var.hpp"
#include "../tensor/layout.hpp"

namespace fz {

// Same elements, new shape (element counts must match).
template <typename T> Var<T> reshape(const Var<T>& x, const Shape& shape);
template <typename T> Var<T> permute(const Var<T>& x, const std::vector<int>& axes);
template <typename T> Var<T> transpose(const Var<T>& x, int axis_a, int axis_b);
template <typename T> Var<T> slice(const Var<T>& x, int axis, long start, long stop);

template <typename T> Var<T> concat(const std::vector<Var<T>>& xs, int axis);
template <typename T>
Var<T> concat(std::initializer_list<Var<T>> xs, int axis) {
  return concat(std::vector<Var<T>>(xs), axis);
}

// Pieces along `axis`. Pieces nobody uses get no gradient; they count as zeros.
template <typename T>
std::vector<Var<T>> split(const Var<T>& x, const std::vector<std::size_t>& sizes, int axis);
template <typename T> std::vector<Var<T>> chunk(const Var<T>& x, std::size_t n, int axis);

template <typename T> Var<T> pad(const Var<T>& x, const PadWidths& widths, T value = T(0));
template <typename T>
Var<T> pad2d(const Var<T>& x, std::size_t top, std::size_t bottom, std::size_t left,
             std::size_t right, T value = T(0));

template <typename T> Var<T> squeeze2d(const Var<T>& x);
template <typename T> Var<T> unsqueeze2d(const Var<T>& x);
template <typename T> Var<T> flip(const Var<T>& x, int axis);

}  // namespace fz
