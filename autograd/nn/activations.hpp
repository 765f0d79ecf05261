// autograd/nn/activations.hpp — activation functions as parameter-free modules, for use in
// Sequential. Each forwards to the differentiable op of the same name (ops_elementwise.hpp).
#pragma once

#include <string>

#include "module.hpp"

namespace fz {

template <typename T>
class ReLU : public Layer<T> {
 public:
  std::string type_name() const override { return "ReLU"; }
  Var<T> forward(const Var<T>& x) override;
};

// x for x >= 0, slope * x otherwise.
template <typename T>
class LeakyReLU : public Layer<T> {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : slope_(negative_slope) {}
  std::string type_name() const override { return "LeakyReLU"; }
  Var<T> forward(const Var<T>& x) override;
  double negative_slope() const { return slope_; }

 private:
  double slope_;
};

// x for x > 0, alpha * (e^x - 1) otherwise.
template <typename T>
class ELU : public Layer<T> {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(alpha) {}
  std::string type_name() const override { return "ELU"; }
  Var<T> forward(const Var<T>& x) override;
  double alpha() const { return alpha_; }

 private:
  double alpha_;
};

template <typename T>
class Tanh : public Layer<T> {
 public:
  std::string type_name() const override { return "Tanh"; }
  Var<T> forward(const Var<T>& x) override;
};

template <typename T>
class Sigmoid : public Layer<T> {
 public:
  std::string type_name() const override { return "Sigmoid"; }
  Var<T> forward(const Var<T>& x) override;
};

// log(1 + e^x).
template <typename T>
class Softplus : public Layer<T> {
 public:
  std::string type_name() const override { return "Softplus"; }
  Var<T> forward(const Var<T>& x) override;
};

extern template class ReLU<float>;
extern template class ReLU<double>;
extern template class LeakyReLU<float>;
extern template class LeakyReLU<double>;
extern template class ELU<float>;
extern template class ELU<double>;
extern template class Tanh<float>;
extern template class Tanh<double>;
extern template class Sigmoid<float>;
extern template class Sigmoid<double>;
extern template class Softplus<float>;
extern template class Softplus<double>;

}  // namespace fz
