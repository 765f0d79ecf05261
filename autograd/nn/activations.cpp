// autograd/nn/activations.cpp — activation modules forward to the elementwise ops.
#include "autograd/nn/activations.hpp"

#include "autograd/ops_elementwise.hpp"

namespace fz {

template <typename T>
Var<T> ReLU<T>::forward(const Var<T>& x) {
  return relu(x);
}

template <typename T>
Var<T> LeakyReLU<T>::forward(const Var<T>& x) {
  return leaky_relu(x, static_cast<T>(slope_));
}

template <typename T>
Var<T> ELU<T>::forward(const Var<T>& x) {
  return elu(x, static_cast<T>(alpha_));
}

template <typename T>
Var<T> Tanh<T>::forward(const Var<T>& x) {
  return tanh(x);
}

template <typename T>
Var<T> Sigmoid<T>::forward(const Var<T>& x) {
  return sigmoid(x);
}

template <typename T>
Var<T> Softplus<T>::forward(const Var<T>& x) {
  return softplus(x);
}

template class ReLU<float>;
template class ReLU<double>;
template class LeakyReLU<float>;
template class LeakyReLU<double>;
template class ELU<float>;
template class ELU<double>;
template class Tanh<float>;
template class Tanh<double>;
template class Sigmoid<float>;
template class Sigmoid<double>;
template class Softplus<float>;
template class Softplus<double>;

}  // namespace fz
