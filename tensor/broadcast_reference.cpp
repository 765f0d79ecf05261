// tensor/broadcast_reference.cpp — broadcasting as xtensor does it (NumPy's rules), and its
// adjoint: summing a gradient over every axis the broadcast created or stretched.
#include "tensor/broadcast_reference.hpp"

#include <algorithm>
#include <stdexcept>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xreducer.hpp>

#include "tensor/xtensor_view.hpp"

namespace fz::reference {

template <typename T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape) {
  if (!broadcastable_to(x.shape(), shape))
    throw std::invalid_argument("broadcast_to: cannot broadcast shape " + shape_str(x.shape()) +
                                " to " + shape_str(shape));
  if (x.shape() == shape) return x;  // shared, as broadcast.hpp promises
  return Tensor<T>(xt::broadcast(xview(x), shape));
}

template <typename T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape) {
  // A target with more axes than g can only add leading 1s (a (1,C,1,1) bias under a (C,H,W)
  // gradient): those change the rank, not the values.
  std::size_t extra = 0;
  while (shape.size() - extra > g.dim() && shape[extra] == 1) ++extra;
  const Shape core(shape.begin() + static_cast<long>(extra), shape.end());
  if (!broadcastable_to(core, g.shape()))
    throw std::invalid_argument("sum_to: cannot reduce a gradient of shape " + shape_str(g.shape()) +
                                " to shape " + shape_str(shape) +
                                " (the target does not broadcast to the gradient's shape)");
  // Sum over g's leading axes that the target lacks and over axes where the target has 1.
  const std::size_t lead = g.dim() - core.size();
  std::vector<std::size_t> axes;
  for (std::size_t i = 0; i < g.dim(); ++i)
    if (i < lead || (core[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(i);
  if (axes.empty()) return g.reshape(shape);  // nothing to add up: g itself, shared
  // Added up in order in double, rounded to T once.
  return Tensor<T>(xt::cast<T>(xt::sum<double>(xview(g), axes))).reshape(shape);
}

template Tensor<float> broadcast_to(const Tensor<float>&, const Shape&);
template Tensor<double> broadcast_to(const Tensor<double>&, const Shape&);
template Tensor<float> sum_to(const Tensor<float>&, const Shape&);
template Tensor<double> sum_to(const Tensor<double>&, const Shape&);

}  // namespace fz::reference
