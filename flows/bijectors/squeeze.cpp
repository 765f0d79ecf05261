// flows/bijectors/squeeze.cpp — Squeeze over squeeze2d / unsqueeze2d.
#include "flows/bijectors/squeeze.hpp"

#include <stdexcept>

#include "autograd/ops_layout.hpp"

namespace fz {

template <typename T>
Transformed<T> Squeeze<T>::forward(const Var<T>& x) {
  forward_shape(x.shape());  // validates
  return {squeeze2d(x), zero_logdet<T>(x.shape()[0])};
}

template <typename T>
Transformed<T> Squeeze<T>::inverse(const Var<T>& z) {
  inverse_shape(z.shape());
  return {unsqueeze2d(z), zero_logdet<T>(z.shape()[0])};
}

template <typename T>
Shape Squeeze<T>::forward_shape(const Shape& in) const {
  if (in.size() != 4 || in[2] % 2 != 0 || in[3] % 2 != 0)
    throw std::invalid_argument("Squeeze: needs (B, C, H, W) with H and W even, got " +
                                shape_str(in));
  return {in[0], in[1] * 4, in[2] / 2, in[3] / 2};
}

template <typename T>
Shape Squeeze<T>::inverse_shape(const Shape& out) const {
  if (out.size() != 4 || out[1] % 4 != 0)
    throw std::invalid_argument("Squeeze::inverse: needs (B, 4C, H, W), got " + shape_str(out));
  return {out[0], out[1] / 4, out[2] * 2, out[3] * 2};
}

template class Squeeze<float>;
template class Squeeze<double>;

}  // namespace fz
