// tensor/xtensor_view.hpp — Tensor<T> as an xtensor expression, and back.
//
//   xview(t)        a zero-copy, row-major xt::xarray_adaptor over t's buffer with t's shape:
//                   mutable for a non-const tensor (writes land in t), read-only for a const one.
//   Tensor<T>(e)    evaluates any xtensor expression e into a fresh buffer of e's shape
//                   (declared in tensor/tensor.hpp, defined here).
//
// So a kernel can be written the NumPy way, e.g.
//   Tensor<T> y(2.0 * xview(a) + xt::exp(xview(b)));   // broadcasting as in NumPy
// which is how the reference kernels (tensor/*_reference.cpp) and user-written ops are
// written. The fast kernels do not use it: this header pulls in xtensor's expression machinery,
// which is slow to compile, so only files that build expressions include it.
//
// Lifetime: a view borrows the buffer; keep the Tensor (or a copy sharing its buffer) alive
// while the view or any unevaluated expression over it is in use. Constructing a Tensor from
// an expression evaluates it, so the result never points into its inputs.
#pragma once

#include <cstddef>
#include <stdexcept>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>
#include <xtensor/xnoalias.hpp>

#include "tensor.hpp"

namespace fz {

namespace detail {
// An undefined Tensor (no buffer) has shape () but no element: a view of it would read nullptr.
template <typename T>
void check_viewable(const Tensor<T>& t) {
  if (!t.defined()) throw std::invalid_argument("xview: the tensor is undefined (it has no buffer)");
}
}  // namespace detail

// Mutable view: assigning to it (or to an xt::view of it) writes into the tensor's buffer.
template <typename T>
auto xview(Tensor<T>& t) {
  detail::check_viewable(t);
  return xt::adapt(t.data(), t.numel(), xt::no_ownership(), t.shape(), xt::layout_type::row_major);
}

// Read-only view of a const tensor.
template <typename T>
auto xview(const Tensor<T>& t) {
  detail::check_viewable(t);
  return xt::adapt(t.data(), t.numel(), xt::no_ownership(), t.shape(), xt::layout_type::row_major);
}

// No view of a temporary tensor: its buffer may be freed at the end of the statement while
// the view (or an expression holding it) lives on. Name the tensor first.
template <typename T>
void xview(Tensor<T>&& t) = delete;

template <typename T>
template <class E>
Tensor<T>::Tensor(const xt::xexpression<E>& expression) {
  const auto& e = expression.derived_cast();
  // Every xtensor expression knows its (broadcast) shape before it is evaluated.
  const Shape shape(e.shape().begin(), e.shape().end());
  *this = Tensor<T>::empty(shape);
  if (numel_ == 0) return;
  auto out = xview(*this);
  xt::noalias(out) = e;
}

}  // namespace fz
