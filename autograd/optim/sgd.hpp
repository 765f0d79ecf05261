// autograd/optim/sgd.hpp — stochastic gradient descent with momentum, Nesterov momentum and
// L2 weight decay, exactly as torch.optim.SGD documents it:
//
//   g = grad + weight_decay * p
//   b = g                                   (first step)
//   b = momentum * b + (1 - dampening) * g  (later steps)
//   g = g + momentum * b  if nesterov, else g = b          (only when momentum != 0)
//   p = p - lr * g
#pragma once

#include <string>
#include <vector>

#include "optimizer.hpp"

namespace fz {

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0
};

template <typename T>
class SGD : public Optimizer<T> {
 public:
  SGD(std::vector<Var<T>> params, const SGDOptions& options);
  SGD(std::vector<Var<T>> params, double lr) : SGD(std::move(params), make_options(lr)) {}

  std::string type_name() const override { return "SGD"; }
  const SGDOptions& options() const { return options_; }

 protected:
  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) override;

 private:
  static SGDOptions make_options(double lr) {
    SGDOptions o;
    o.lr = lr;
    return o;
  }
  SGDOptions options_;
  std::size_t momentum_slot_ = 0;
};

extern template class SGD<float>;
extern template class SGD<double>;

}  // namespace fz
