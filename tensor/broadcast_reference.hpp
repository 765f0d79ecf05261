// tensor/broadcast_reference.hpp — the plain forms of broadcast_to and sum_to
// (tensor/broadcast.hpp): xt::broadcast, and xt::sum over the axes that broadcasting added or
// stretched. The ground truth the collapsed-axis fast paths are tested against, and what they
// run instead when reference_ops() is on. Namespace fz::reference; the same errors as the fast
// kernels, and the same sharing: the input itself when nothing is broadcast or summed.
#pragma once

#include "broadcast.hpp"

namespace fz::reference {

template <typename T> Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape);
template <typename T> Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape);

}  // namespace fz::reference
