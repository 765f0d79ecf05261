// autograd/ops_scan.hpp — differentiable scans along one axis of a Var: cumsum.
//
// cumsum keeps the input's shape: y_j = x_0 + ... + x_j along `axis` (inclusive, NumPy's
// np.cumsum / torch.cumsum). Float inputs are accumulated in double, so a long float scan does
// not drift. Axes may be negative; a 0-d input or an axis out of range throws
// std::invalid_argument naming the shape.
#pragma once

#include "var.hpp"

namespace fz {

template <typename T> Var<T> cumsum(const Var<T>& x, int axis);

}  // namespace fz
