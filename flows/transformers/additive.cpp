// flows/transformers/additive.cpp — y = x + t.
#include "flows/transformers/additive.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"

namespace fz {

namespace {

void check_params(const Shape& x, const Shape& params, const char* who) {
  if (x != params)
    throw std::invalid_argument(std::string(who) + ": the shift must be shaped like the input " + shape_str(x) +
                                ", got " + shape_str(params));
}

}  // namespace

template <typename T>
Elementwise<T> AdditiveTransformer<T>::forward(const Var<T>& x, const Var<T>& params) {
  check_params(x.shape(), params.shape(), "AdditiveTransformer::forward");
  return {x + params, Var<T>(Tensor<T>(x.shape()))};
}

template <typename T>
Elementwise<T> AdditiveTransformer<T>::inverse(const Var<T>& y, const Var<T>& params) {
  check_params(y.shape(), params.shape(), "AdditiveTransformer::inverse");
  return {y - params, Var<T>(Tensor<T>(y.shape()))};
}

template class AdditiveTransformer<float>;
template class AdditiveTransformer<double>;

}  // namespace fz
