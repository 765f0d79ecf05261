// autograd/optim/sgd.cpp — the SGD update, one fused loop per parameter.
#include "autograd/optim/sgd.hpp"

#include <stdexcept>

#include "tensor/parallel.hpp"

namespace fz {

template <typename T>
SGD<T>::SGD(std::vector<Var<T>> params, const SGDOptions& options)
    : Optimizer<T>(std::move(params), options.lr), options_(options) {
  this->check_non_negative(options.momentum, "momentum", "SGD");
  this->check_non_negative(options.dampening, "dampening", "SGD");
  this->check_non_negative(options.weight_decay, "weight_decay", "SGD");
  if (options.nesterov && (options.momentum <= 0.0 || options.dampening != 0.0))
    throw std::invalid_argument("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
  if (options.momentum != 0.0) momentum_slot_ = this->add_state_slot("momentum_buffer");
}

template <typename T>
void SGD<T>::update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) {
  const T lr = static_cast<T>(this->lr());
  const T wd = static_cast<T>(options_.weight_decay);
  const T mu = static_cast<T>(options_.momentum);
  const T damp = T(1) - static_cast<T>(options_.dampening);
  const bool nesterov = options_.nesterov;
  const bool first = t == 1;
  T* p = value.data();
  const T* gr = grad.data();
  T* b = options_.momentum != 0.0 ? this->state(momentum_slot_, i).data() : nullptr;
  parallel_for(value.numel(), kParallelGrain, [=](std::size_t begin, std::size_t end) {
    if (!b) {
      for (std::size_t k = begin; k < end; ++k) p[k] -= lr * (gr[k] + wd * p[k]);
      return;
    }
    for (std::size_t k = begin; k < end; ++k) {
      const T g = gr[k] + wd * p[k];
      const T buf = first ? g : mu * b[k] + damp * g;
      b[k] = buf;
      p[k] -= lr * (nesterov ? g + mu * buf : buf);
    }
  });
}

template class SGD<float>;
template class SGD<double>;

}  // namespace fz
