// examples/leaky_relu_bijector.hpp — a bijector written from scratch, outside flows/, the way
// a contributor would add a new layer: an elementwise leaky ReLU whose negative-side slope is
// learned, one slope per feature. Header-only; nothing in flows/ knows about it.
//
// For (B, D) inputs and a parameter log_slope of shape (D), with a_j = exp(log_slope_j) > 0:
//   forward (data -> latent):  y = x          where x >= 0
//                              y = a_j * x    where x <  0
//                              log|det dy/dx| = sum over the negative entries of log a_j
//   inverse (latent -> data):  x = y          where y >= 0
//                              x = y / a_j    where y <  0
//                              log|det dx/dy| = - sum over the negative entries of log a_j
// The Jacobian is diagonal (1 or a_j on it), hence the log-det. Because a_j > 0 the map keeps
// signs, so x and y = f(x) have the same negative entries and the two log-dets cancel exactly.
// Writing the slope as exp(log_slope) keeps it positive (invertible) whatever the optimiser does.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/ops_elementwise.hpp"
#include "flows/bijector.hpp"

namespace fz {

template <typename T>
class LeakyReLUBijector : public Bijector<T> {
 public:
  // `features`: D, the size of axis 1 of the (B, D) inputs. `init_slope` > 0 (1 = identity).
  explicit LeakyReLUBijector(std::size_t features, T init_slope = T(1)) {
    if (features == 0 || !(init_slope > T(0)))
      throw std::invalid_argument("LeakyReLUBijector: needs features > 0 and init_slope > 0, got " +
                                  std::to_string(features) + " and " + std::to_string(init_slope));
    // A registered parameter is trained by the optimiser, saved in checkpoints and checked by
    // the conformance harness's gradient test, all without any further code.
    log_slope_ = this->register_parameter("log_slope", Tensor<T>(Shape{features}, std::log(init_slope)));
  }

  std::string type_name() const override { return "LeakyReLUBijector"; }

  Transformed<T> forward(const Var<T>& x) override { return apply(x, log_slope_, "forward"); }
  // The inverse is the same map with slope 1 / a, i.e. log-slope negated.
  Transformed<T> inverse(const Var<T>& z) override { return apply(z, -log_slope_, "inverse"); }

  const Var<T>& log_slope() const { return log_slope_; }

 private:
  // y = x on the non-negative entries, exp(log_a) * x on the negative ones; log-det sums log_a
  // over the negative entries of each sample.
  Transformed<T> apply(const Var<T>& x, const Var<T>& log_a, const char* who) const {
    const Shape& s = x.shape();
    if (s.size() != 2 || s[1] != log_slope_.shape()[0])
      throw std::invalid_argument(std::string("LeakyReLUBijector::") + who + ": expected (B, " +
                                  std::to_string(log_slope_.shape()[0]) + "), got " + shape_str(s));
    // x = relu(x) - relu(-x), so scaling the negative part alone gives the leaky map. Built
    // from differentiable ops, so the tape derives the gradients for x and log_slope itself.
    Var<T> y = relu(x) - exp(log_a) * relu(-x);  // (B, D) - (D) * (B, D): broadcasts over B
    // Which entries are negative: a constant 0/1 mask. The log-det is piecewise constant in x
    // (no gradient to x), linear in log_a (gradient = number of negative entries).
    Tensor<T> negative = Tensor<T>::empty(s);
    const Tensor<T>& xv = x.value();
    for (std::size_t i = 0; i < xv.numel(); ++i) negative[i] = xv[i] < T(0) ? T(1) : T(0);
    Var<T> logdet = sum_per_sample(Var<T>(negative) * log_a);  // (B,)
    return {y, logdet};
  }

  Var<T> log_slope_;
};

}  // namespace fz
