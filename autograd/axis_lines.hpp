// autograd/axis_lines.hpp — AxisLines: a row-major tensor viewed as outer x n x inner around
// one axis, for ops that work along a single axis (softmax, cumsum, gather). Element j of
// line (o, i) sits at flat index o * n * inner + j * inner + i.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "../tensor/shape.hpp"

namespace fz {
namespace detail {

struct AxisLines {
  std::size_t axis = 0;   // normalised axis
  std::size_t outer = 1;  // product of the sizes before `axis`
  std::size_t n = 1;      // size of `axis`
  std::size_t inner = 1;  // product of the sizes after `axis`

  std::size_t at(std::size_t o, std::size_t j, std::size_t i) const {
    return (o * n + j) * inner + i;
  }
};

// Normalises `axis` (negatives count from the end) and splits `shape` around it. Throws
// std::invalid_argument naming `op` for a 0-d shape or an axis out of range.
inline AxisLines axis_lines(const Shape& shape, int axis, const char* op) {
  const long nd = static_cast<long>(shape.size());
  const long k = axis < 0 ? nd + axis : axis;
  if (k < 0 || k >= nd)
    throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                " is out of range for a tensor of shape " + shape_str(shape));
  AxisLines l;
  l.axis = static_cast<std::size_t>(k);
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d < l.axis) l.outer *= shape[d];
    if (d > l.axis) l.inner *= shape[d];
  }
  l.n = shape[l.axis];
  return l;
}

}  // namespace detail
}  // namespace fz
