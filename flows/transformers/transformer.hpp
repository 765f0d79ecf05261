// flows/transformers/transformer.hpp — the elementwise monotone map inside a coupling layer or an
// autoregressive layer: the third of a coupling's three parts (partition, conditioner,
// transformer; see flows/bijectors/partition.hpp and flows/conditioners/).
//
// A transformer maps each transformed element x_i to y_i = tau(x_i; theta_i), strictly
// increasing in x_i, where theta_i are the parameters_per_element() numbers the conditioner
// produced for element i. Because every y_i depends on its own x_i only (given theta), the
// Jacobian block of the transformed part is diagonal and its log|det| is the sum of the
// per-element log-derivatives log(d tau / d x_i) the transformer returns.
//
// Layout of the conditioner output `params` for a transformed part x of shape (B, k, rest...):
// params has shape (B, P * k, rest...) with P = parameters_per_element(), and parameter p of
// channel j sits at channel param_channel(p, j, k) of axis 1. The default is the "blocked"
// layout p * k + j (all of parameter 0, then all of parameter 1, ...: RealNVP's s then t);
// a transformer may use another (Glow's interleaved shift/scale) by overriding param_channel.
// Autoregressive conditioners (MADE, flows/conditioners/made.hpp) use param_channel to give each
// output unit the degree of the element it parameterises.
//
// Direction: forward is the data -> latent direction of the enclosing bijector (see
// flows/bijector.hpp); inverse undoes it. Both return per-element log-derivatives of the map
// they computed, so forward's and inverse's log-derivatives at matching points sum to zero.
//
// A transformer is a Module: it may own parameters (RealNVP's learned per-channel "scale").
// Writing a new one means subclassing this and implementing the four pure virtuals; register it
// in the conformance list (tests/flows/bijector_registry.cpp) to get the round-trip,
// log-det and gradient checks for free.
#pragma once

#include <cstddef>
#include <string>

#include "../../autograd/nn/module.hpp"
#include "../../autograd/var.hpp"

namespace fz {

// An elementwise map's output and its log-derivative log|dy_i/dx_i|, both shaped like the input.
template <typename T>
struct Elementwise {
  Var<T> value;
  Var<T> log_derivative;
};

template <typename T>
class Transformer : public Module<T> {
 public:
  // P: how many numbers the conditioner produces per transformed element (additive 1, affine 2,
  // rational-quadratic spline with K bins 3K - 1, logistic mixture with K components 3K + 2).
  virtual std::size_t parameters_per_element() const = 0;

  // Channel of axis 1 of `params` that holds parameter p (0 <= p < P) of channel j (0 <= j < k)
  // of the transformed part, which has k channels. Default: blocked, p * k + j.
  virtual std::size_t param_channel(std::size_t p, std::size_t j, std::size_t k) const {
    return p * k + j;
  }

  // x: (B, k, rest...); params: (B, P * k, rest...). y = tau(x; params) elementwise.
  virtual Elementwise<T> forward(const Var<T>& x, const Var<T>& params) = 0;
  // y: (B, k, rest...); params as for forward. x = tau^{-1}(y; params) elementwise, with
  // log|dx/dy| (the negative of forward's log-derivative at x).
  virtual Elementwise<T> inverse(const Var<T>& y, const Var<T>& params) = 0;

  // True when every log-derivative is identically 0 whatever x and params (additive): a
  // coupling then reports a zero log-det without summing them (no ops on the tape).
  virtual bool volume_preserving() const { return false; }
};

}  // namespace fz
