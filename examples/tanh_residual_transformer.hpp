// examples/tanh_residual_transformer.hpp — a transformer (the elementwise map inside a coupling
// layer, flows/transformers/transformer.hpp) written outside flows/, the way a contributor adds
// one: y = x + a tanh(x). Header-only; nothing in flows/ knows about it. Put it in any coupling
// with Coupling(channels, partition, net, transformer) (flows/bijectors/coupling.hpp); the
// conformance list (tests/flows/bijector_registry.cpp) checks it that way.
//
// One parameter per element (P = 1): the conditioner's output r, with a = 0.9 tanh(r), so
// |a| <= 0.9 < 1 whatever the network says and
//   dy/dx = 1 + a (1 - tanh(x)^2)  >= 0.1 > 0       (strictly increasing, hence invertible)
//   forward  y = x + a tanh(x)                      log-derivative log(1 + a - a tanh(x)^2)
//   inverse  x solves x + a tanh(x) = y             log-derivative -log(1 + a - a tanh(x)^2)
// The inverse has no closed form: it is found by bisection on [y - 1, y + 1], which holds the
// root because |a tanh(x)| < 1, and its gradient comes from the implicit function theorem:
//   dx/dy = 1 / f'(x),  dx/da = -tanh(x) / f'(x),  f'(x) = 1 + a (1 - tanh(x)^2).
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/ops_elementwise.hpp"
#include "flows/transformers/transformer.hpp"

namespace fz {

template <typename T>
class TanhResidualTransformer : public Transformer<T> {
 public:
  std::string type_name() const override { return "TanhResidual"; }
  std::size_t parameters_per_element() const override { return 1; }

  Elementwise<T> forward(const Var<T>& x, const Var<T>& params) override {
    const Var<T> a = amplitude(x, params, "forward");
    const Var<T> th = tanh(x);
    return {x + a * th, log1p(a - a * square(th))};
  }

  Elementwise<T> inverse(const Var<T>& y, const Var<T>& params) override {
    const Var<T> a = amplitude(y, params, "inverse");
    const Var<T> x = solve(y, a);
    return {x, -log1p(a - a * square(tanh(x)))};
  }

 private:
  // a = 0.9 tanh(params), after checking params is shaped like the input.
  static Var<T> amplitude(const Var<T>& x, const Var<T>& params, const char* who) {
    if (params.shape() != x.shape())
      throw std::invalid_argument(std::string("TanhResidualTransformer::") + who + ": parameters " +
                                  shape_str(params.shape()) + " must be shaped like the input " + shape_str(x.shape()));
    return tanh(params) * T(0.9);
  }

  // x with x + a tanh(x) = y, elementwise, as one op with the implicit gradient.
  static Var<T> solve(const Var<T>& y, const Var<T>& a) {
    Tensor<T> x = Tensor<T>::empty(y.shape());
    const Tensor<T>& yv = y.value();
    const Tensor<T>& av = a.value();
    for (std::size_t i = 0; i < x.numel(); ++i) {
      double lo = double(yv[i]) - 1.0, hi = double(yv[i]) + 1.0;
      for (int it = 0; it < 64 && hi - lo > 0; ++it) {  // 64 halvings: below double precision
        const double mid = 0.5 * (lo + hi);
        if (mid + double(av[i]) * std::tanh(mid) < double(yv[i])) lo = mid;
        else hi = mid;
      }
      x[i] = T(0.5 * (lo + hi));
    }
    const Tensor<T> root = x;  // shares storage with the output: read only in backward
    return record_op("tanh_residual_inverse", std::move(x), {y, a}, [y, a, root](const Tensor<T>& g) {
      Tensor<T> dy = Tensor<T>::empty(g.shape()), da = Tensor<T>::empty(g.shape());
      const Tensor<T>& av = a.value();
      for (std::size_t i = 0; i < g.numel(); ++i) {
        const T th = std::tanh(root[i]);
        const T slope = T(1) + av[i] * (T(1) - th * th);
        dy[i] = g[i] / slope;
        da[i] = -g[i] * th / slope;
      }
      if (y.requires_grad()) y.accumulate_grad(std::move(dy));
      if (a.requires_grad()) a.accumulate_grad(std::move(da));
    });
  }
};

}  // namespace fz
