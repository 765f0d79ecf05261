// tensor/tensor.hpp — Tensor<T>: a contiguous, row-major N-d array on xtensor storage.
//
// A Tensor is a shape plus a shared, 64-byte aligned xt::uvector buffer. Copying a Tensor is
// cheap and shares the buffer (like a NumPy array or a torch.Tensor); `clone()` makes a deep
// copy. reshape() shares the buffer too. Kernels never write into their inputs: every op
// returns a fresh tensor, so sharing is safe. Only code that owns a buffer (optimisers on
// parameters, gradient accumulation) writes in place.
//
// Element types: float (training), double (gradient checks) and uint8_t (image batches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include <xsimd/memory/xsimd_aligned_allocator.hpp>
#include <xtensor/xstorage.hpp>

#include "shape.hpp"

namespace xt {
template <class D>
class xexpression;
}  // namespace xt

namespace fz {

template <typename T>
class Tensor {
 public:
  using value_type = T;
  using Storage = xt::uvector<T, xsimd::aligned_allocator<T, 64>>;

  // An undefined tensor: no buffer (defined() is false). Used for "no gradient yet".
  Tensor() = default;
  // Zero-filled tensor of the given shape.
  explicit Tensor(const Shape& shape);
  Tensor(const Shape& shape, T fill_value);
  // Shape plus values in row-major order; throws if the count does not match.
  Tensor(const Shape& shape, std::initializer_list<T> values);
  Tensor(const Shape& shape, const std::vector<T>& values);
  // Evaluates any xtensor expression (`2 * xview(a) + xt::exp(xview(b))`) into fresh storage of
  // the expression's shape, so nothing dangles. Defined in tensor/xtensor_view.hpp: include it
  // where you build tensors from expressions (this header stays light for everyone else).
  template <class E>
  explicit Tensor(const xt::xexpression<E>& expression);

  // Uninitialised buffer: for kernels that overwrite every element.
  static Tensor empty(const Shape& shape);
  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  static Tensor ones(const Shape& shape) { return Tensor(shape, T(1)); }
  static Tensor full(const Shape& shape, T v) { return Tensor(shape, v); }
  static Tensor scalar(T v) { return Tensor(Shape{}, v); }

  bool defined() const { return static_cast<bool>(storage_); }
  const Shape& shape() const { return shape_; }
  std::size_t dim() const { return shape_.size(); }
  // Size of one axis; negative axes count from the end.
  std::size_t size(int axis) const;
  std::size_t numel() const { return numel_; }
  std::size_t nbytes() const { return numel_ * sizeof(T); }

  T* data() { return storage_ ? storage_->data() : nullptr; }
  const T* data() const { return storage_ ? storage_->data() : nullptr; }
  T* begin() { return data(); }
  T* end() { return data() + numel_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + numel_; }

  // Flat (row-major) element access.
  T& operator[](std::size_t i) { return storage_->data()[i]; }
  const T& operator[](std::size_t i) const { return storage_->data()[i]; }
  // Multi-index access with bounds checks (for tests and readable slow paths).
  T& at(const std::vector<std::size_t>& index);
  const T& at(const std::vector<std::size_t>& index) const;
  // The single value of a one-element tensor; throws otherwise.
  T item() const;

  // Same buffer, new shape with the same element count.
  Tensor reshape(const Shape& new_shape) const;
  // Deep copy.
  Tensor clone() const;
  void fill(T v);
  // Copies values from a tensor of the same shape into this buffer.
  void copy_from(const Tensor& other);
  // True when both tensors look at the same buffer.
  bool shares_storage_with(const Tensor& other) const { return storage_ && storage_ == other.storage_; }
  // True when no other Tensor shares this buffer (so it may be reused in place).
  bool unique() const { return storage_ && storage_.use_count() == 1; }

  template <typename U>
  Tensor<U> cast() const {
    Tensor<U> out = Tensor<U>::empty(shape_);
    for (std::size_t i = 0; i < numel_; ++i) out[i] = static_cast<U>((*this)[i]);
    return out;
  }

  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }

 private:
  std::size_t flat_index(const std::vector<std::size_t>& index) const;

  Shape shape_;
  std::size_t numel_ = 0;
  std::shared_ptr<Storage> storage_;
};

using Tensor32 = Tensor<float>;
using Tensor64 = Tensor<double>;
using TensorU8 = Tensor<std::uint8_t>;

// Throws std::invalid_argument naming `what` if the shapes differ.
void check_same_shape(const Shape& a, const Shape& b, const char* what);

extern template class Tensor<float>;
extern template class Tensor<double>;
extern template class Tensor<std::uint8_t>;

}  // namespace fz
