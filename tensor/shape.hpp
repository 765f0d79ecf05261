// tensor/shape.hpp — the Shape type (dimensions of a row-major array) and small helpers
// for counting elements, computing strides and printing shapes in error messages.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fz {

using Shape = std::vector<std::size_t>;

// Number of elements of an array with this shape (1 for a 0-d scalar shape {}).
std::size_t shape_numel(const Shape& shape);

// Row-major strides in elements: the last axis has stride 1.
std::vector<std::size_t> row_major_strides(const Shape& shape);

// "(2, 3, 4)" — used in every shape-related error message.
std::string shape_str(const Shape& shape);

// Turns a possibly negative axis (-1 = last) into an index in [0, ndim); throws on out of range.
std::size_t normalize_axis(int axis, std::size_t ndim);

}  // namespace fz
