// tensor/shape.cpp — Shape helpers.
#include "tensor/shape.hpp"

#include <stdexcept>

namespace fz {

std::size_t shape_numel(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

std::vector<std::size_t> row_major_strides(const Shape& shape) {
  std::vector<std::size_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::size_t normalize_axis(int axis, std::size_t ndim) {
  const long a = axis < 0 ? static_cast<long>(ndim) + axis : axis;
  if (a < 0 || a >= static_cast<long>(ndim))
    throw std::out_of_range("axis " + std::to_string(axis) + " is out of range for a " +
                            std::to_string(ndim) + "-d tensor");
  return static_cast<std::size_t>(a);
}

}  // namespace fz
