// tensor/tensor.cpp — Tensor<T> construction, access and copying.
#include "tensor/tensor.hpp"

#include "tensor/memory_counter.hpp"

#include <malloc.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace fz {

namespace {
// A training step allocates and frees the same few hundred activation-sized buffers every
// iteration. glibc serves blocks above its mmap threshold with fresh mmaps, so each step would
// page-fault its whole working set in again (about a tenth of a Glow step when measured).
// Keeping freed memory in the heap instead makes the second step reuse the first one's pages.
bool keep_freed_memory() {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  // 32 MiB is the largest threshold glibc accepts (it ignores larger values).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // blocks below 32 MiB come from the reusable heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);   // and freed heap memory is not handed back each step
#endif
  return true;
}

// Every buffer is one of these, so it is counted (tensor/memory_counter.hpp) from allocation to
// release.
template <typename T>
struct CountedStorage : Tensor<T>::Storage {
  explicit CountedStorage(std::size_t n) : Tensor<T>::Storage(n) {
    detail::count_tensor_allocation(this->data(), n * sizeof(T));
  }
  ~CountedStorage() { detail::count_tensor_release(this->data(), this->size() * sizeof(T)); }
  CountedStorage(const CountedStorage&) = delete;
  CountedStorage& operator=(const CountedStorage&) = delete;
};
}  // namespace

template <typename T>
Tensor<T> Tensor<T>::empty(const Shape& shape) {
  static const bool memory_policy = keep_freed_memory();
  (void)memory_policy;
  Tensor t;
  t.shape_ = shape;
  t.numel_ = shape_numel(shape);
  t.storage_ = std::make_shared<CountedStorage<T>>(t.numel_);
  return t;
}

template <typename T>
Tensor<T>::Tensor(const Shape& shape) : Tensor(shape, T(0)) {}

template <typename T>
Tensor<T>::Tensor(const Shape& shape, T fill_value) {
  *this = empty(shape);
  fill(fill_value);
}

template <typename T>
Tensor<T>::Tensor(const Shape& shape, std::initializer_list<T> values)
    : Tensor(shape, std::vector<T>(values)) {}

template <typename T>
Tensor<T>::Tensor(const Shape& shape, const std::vector<T>& values) {
  *this = empty(shape);
  if (values.size() != numel_)
    throw std::invalid_argument("Tensor: shape " + shape_str(shape) + " needs " +
                                std::to_string(numel_) + " values, got " +
                                std::to_string(values.size()));
  std::copy(values.begin(), values.end(), data());
}

template <typename T>
std::size_t Tensor<T>::size(int axis) const {
  return shape_[normalize_axis(axis, shape_.size())];
}

template <typename T>
std::size_t Tensor<T>::flat_index(const std::vector<std::size_t>& index) const {
  if (index.size() != shape_.size())
    throw std::out_of_range("Tensor::at: " + std::to_string(index.size()) +
                            " indices for a tensor of shape " + shape_str(shape_));
  std::size_t flat = 0;
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (index[i] >= shape_[i])
      throw std::out_of_range("Tensor::at: index " + std::to_string(index[i]) + " on axis " +
                              std::to_string(i) + " of shape " + shape_str(shape_));
    flat = flat * shape_[i] + index[i];
  }
  return flat;
}

template <typename T>
T& Tensor<T>::at(const std::vector<std::size_t>& index) {
  return (*this)[flat_index(index)];
}

template <typename T>
const T& Tensor<T>::at(const std::vector<std::size_t>& index) const {
  return (*this)[flat_index(index)];
}

template <typename T>
T Tensor<T>::item() const {
  if (!defined() || numel_ != 1)
    throw std::invalid_argument("Tensor::item: needs exactly one element, shape is " +
                                shape_str(shape_));
  return (*this)[0];
}

template <typename T>
Tensor<T> Tensor<T>::reshape(const Shape& new_shape) const {
  if (shape_numel(new_shape) != numel_)
    throw std::invalid_argument("reshape: cannot view shape " + shape_str(shape_) + " as " +
                                shape_str(new_shape) + " (element counts differ)");
  Tensor t = *this;
  t.shape_ = new_shape;
  return t;
}

template <typename T>
Tensor<T> Tensor<T>::clone() const {
  if (!defined()) return Tensor();
  Tensor t = empty(shape_);
  std::copy(begin(), end(), t.data());
  return t;
}

template <typename T>
void Tensor<T>::fill(T v) {
  std::fill(begin(), end(), v);
}

template <typename T>
void Tensor<T>::copy_from(const Tensor& other) {
  check_same_shape(shape_, other.shape(), "Tensor::copy_from");
  std::copy(other.begin(), other.end(), data());
}

void check_same_shape(const Shape& a, const Shape& b, const char* what) {
  if (a != b)
    throw std::invalid_argument(std::string(what) + ": shapes " + shape_str(a) + " and " +
                                shape_str(b) + " differ");
}

template class Tensor<float>;
template class Tensor<double>;
template class Tensor<std::uint8_t>;

}  // namespace fz
