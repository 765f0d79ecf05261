// autograd/nn/linear.cpp — Linear's parameters, initialisation and forward.
#include "autograd/nn/linear.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_matmul.hpp"

namespace fz {

template <typename T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, Rng& rng, bool bias,
                  LinearInit init)
    : in_(in_features), out_(out_features) {
  if (in_features == 0 || out_features == 0)
    throw std::invalid_argument("Linear: in_features and out_features must be > 0, got " +
                                std::to_string(in_features) + " and " +
                                std::to_string(out_features));
  Tensor<T> w(Shape{out_features, in_features});
  Tensor<T> b(Shape{out_features});
  if (init == LinearInit::Default) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    rng.fill_uniform(w, -bound, bound);
    if (bias) rng.fill_uniform(b, -bound, bound);
  }
  weight_ = this->register_parameter("weight", std::move(w));
  if (bias) bias_ = this->register_parameter("bias", std::move(b));
}

template <typename T>
void Linear<T>::check_input(const Var<T>& x) const {
  if (x.dim() == 0 || x.shape().back() != in_)
    throw std::invalid_argument("Linear: input of shape " + shape_str(x.shape()) +
                                " does not end in in_features = " + std::to_string(in_));
}

template <typename T>
Var<T> Linear<T>::forward_with(const Var<T>& x, const std::vector<Var<T>>& params) const {
  const std::size_t expected = bias_.defined() ? 2 : 1;
  if (params.size() != expected)
    throw std::invalid_argument("Linear::forward_with: expected " + std::to_string(expected) +
                                " parameters, got " + std::to_string(params.size()));
  check_input(x);
  return linear(x, params[0], expected == 2 ? params[1] : Var<T>());
}

template <typename T>
Var<T> Linear<T>::forward(const Var<T>& x) {
  check_input(x);
  return linear(x, weight_, bias_);
}

template <typename T>
Var<T> Linear<T>::forward_relu(const Var<T>& x) {
  check_input(x);
  return linear_relu(x, weight_, bias_);
}

template class Linear<float>;
template class Linear<double>;

}  // namespace fz
