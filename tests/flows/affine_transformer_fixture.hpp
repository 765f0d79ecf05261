// tests/flows/affine_transformer_fixture.hpp — TEST FIXTURE, not library code: a small affine
// Transformer (flows/transformers/transformer.hpp) for the autoregressive-flow tests, the
// library's AffineTransformer (flows/transformers/affine.hpp) with its parameters in another
// layout:
//   y = x * exp(s) + t,  s = tanh(raw_s) (bounded log-scale),  log dy/dx = s.
// The layout is interleaved on purpose — (raw_s, t) of dimension j at channels 2j and 2j + 1,
// not the default blocked layout the library's affine uses — so the tests notice a
// conditioner (MADE) that ignores param_channel. Vectors only: x (B, k), params (B, 2k).
#pragma once

#include <stdexcept>
#include <string>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "flows/transformers/transformer.hpp"

namespace fz::testing {

template <typename T>
class InterleavedAffineFixture : public Transformer<T> {
 public:
  std::string type_name() const override { return "InterleavedAffineFixture"; }
  std::size_t parameters_per_element() const override { return 2; }
  std::size_t param_channel(std::size_t p, std::size_t j, std::size_t) const override { return 2 * j + p; }

  Elementwise<T> forward(const Var<T>& x, const Var<T>& params) override {
    auto [s, t] = split_params(x, params);
    return {x * exp(s) + t, s};
  }
  Elementwise<T> inverse(const Var<T>& y, const Var<T>& params) override {
    auto [s, t] = split_params(y, params);
    return {(y - t) * exp(-s), -s};
  }

 private:
  // (B, 2k) interleaved -> log-scale s and shift t, each (B, k).
  static std::pair<Var<T>, Var<T>> split_params(const Var<T>& x, const Var<T>& params) {
    if (x.dim() != 2 || params.dim() != 2 || params.shape()[0] != x.shape()[0] ||
        params.shape()[1] != 2 * x.shape()[1])
      throw std::invalid_argument("InterleavedAffineFixture: x " + shape_str(x.shape()) + " with params " +
                                  shape_str(params.shape()));
    const std::size_t b = x.shape()[0], k = x.shape()[1];
    const Var<T> pairs = reshape(params, Shape{b, k, 2});
    const Var<T> raw_s = reshape(slice(pairs, 2, 0, 1), Shape{b, k});
    const Var<T> t = reshape(slice(pairs, 2, 1, 2), Shape{b, k});
    return {tanh(raw_s), t};
  }
};

}  // namespace fz::testing
