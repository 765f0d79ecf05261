// autograd/nn/sequential.cpp — a chain of layers.
#include "autograd/nn/sequential.hpp"

#include <stdexcept>

namespace fz {

template <typename T>
Sequential<T>::Sequential(std::initializer_list<std::shared_ptr<Layer<T>>> layers) {
  for (const auto& l : layers) add(l);
}

template <typename T>
Sequential<T>& Sequential<T>::add(std::shared_ptr<Layer<T>> layer) {
  if (!layer) throw std::invalid_argument("Sequential::add: null layer");
  layers_.push_back(this->register_module(std::to_string(layers_.size()), std::move(layer)));
  return *this;
}

template <typename T>
Var<T> Sequential<T>::forward(const Var<T>& x) {
  Var<T> h = x;
  for (const auto& l : layers_) h = l->forward(h);
  return h;
}

template <typename T>
const std::shared_ptr<Layer<T>>& Sequential<T>::layer(std::size_t i) const {
  if (i >= layers_.size())
    throw std::out_of_range("Sequential: layer " + std::to_string(i) + " of " +
                            std::to_string(layers_.size()));
  return layers_[i];
}

template <typename T>
Layer<T>& Sequential<T>::operator[](std::size_t i) const {
  return *layer(i);
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace fz
