// autograd/optim/adam.hpp — Adam, AdamW and Adamax, exactly as torch.optim documents them
// (t = the parameter's step number, starting at 1):
//
// Adam:    g = grad + weight_decay * p                       (L2 penalty through the gradient)
//          m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//          p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// AdamW:   p = p * (1 - lr * weight_decay)                   (decoupled decay), then Adam with
//          g = grad.
// Adamax:  g = grad + weight_decay * p
//          m = b1 m + (1 - b1) g;   u = max(b2 u, |g| + eps)
//          p = p - lr / (1 - b1^t) * m / u
// Glow trains with Adamax and a linear warmup (see schedule.hpp).
#pragma once

#include <cmath>
#include <limits>

#include <string>
#include <vector>

#include "optimizer.hpp"

namespace fz {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

template <typename T>
class Adam : public Optimizer<T> {
 public:
  Adam(std::vector<Var<T>> params, const AdamOptions& options);
  Adam(std::vector<Var<T>> params, double lr) : Adam(std::move(params), with_lr(lr)) {}

  std::string type_name() const override { return "Adam"; }
  const AdamOptions& options() const { return options_; }
  // g^2 overflows T once |g| passes sqrt(max T) (about 1.8e19 in float); /16 leaves room for
  // the moment's running sum. The loss would stay finite afterwards (m / sqrt(inf) = 0).
  double largest_safe_gradient_norm() const override {
    return std::sqrt(static_cast<double>(std::numeric_limits<T>::max())) / 16;
  }

 protected:
  static AdamOptions with_lr(double lr, double weight_decay = 0.0) {
    AdamOptions o;
    o.lr = lr;
    o.weight_decay = weight_decay;
    return o;
  }
  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) override;
  // AdamW and Adam share the moment update; only where weight decay enters differs.
  void adam_update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t,
                   bool decoupled);

  AdamOptions options_;
  std::size_t exp_avg_ = 0, exp_avg_sq_ = 0;
};

// Adam with decoupled weight decay (Loshchilov & Hutter); PyTorch's default decay is 1e-2.
template <typename T>
class AdamW : public Adam<T> {
 public:
  AdamW(std::vector<Var<T>> params, const AdamOptions& options) : Adam<T>(std::move(params), options) {}
  AdamW(std::vector<Var<T>> params, double lr, double weight_decay = 1e-2)
      : Adam<T>(std::move(params), Adam<T>::with_lr(lr, weight_decay)) {}

  std::string type_name() const override { return "AdamW"; }

 protected:
  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) override;
};

// Adam with the infinity norm (PyTorch's default lr for it is 2e-3).
template <typename T>
class Adamax : public Optimizer<T> {
 public:
  Adamax(std::vector<Var<T>> params, const AdamOptions& options);
  Adamax(std::vector<Var<T>> params, double lr);

  std::string type_name() const override { return "Adamax"; }
  const AdamOptions& options() const { return options_; }

 protected:
  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) override;

 private:
  AdamOptions options_;
  std::size_t exp_avg_ = 0, exp_inf_ = 0;
};

extern template class Adam<float>;
extern template class Adam<double>;
extern template class AdamW<float>;
extern template class AdamW<double>;
extern template class Adamax<float>;
extern template class Adamax<double>;

}  // namespace fz
