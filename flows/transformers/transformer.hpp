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
// A transformer declares its identity with identity_parameters() (below): the conditioner
// output at which it is the identity map, which the conditioner factories write into their
// zero-initialised last layer.
//
// A transformer is a Module: it may own parameters (RealNVP's learned per-channel "scale").
// Writing a new one means subclassing this and implementing the four pure virtuals; register it
// in the conformance list (tests/flows/bijector_registry.cpp) to get the round-trip,
// log-det and gradient checks for free.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

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

  // The P per-element parameter values (index p) at which this transformer is the identity:
  // what a conditioner's zero-initialised last layer must output so that a fresh coupling or
  // autoregressive layer starts as the identity map. Default: all 0, the identity of the
  // additive (shift 0) and affine (log-scale 0) transformers. The spline overrides it (its
  // interior-derivative entries). Glow's sigmoid-affine and the logistic mixture have no
  // identity at finite parameters and keep 0 (Glow's scale then starts at sigmoid(2) = 0.88,
  // as in openai/glow).
  virtual std::vector<double> identity_parameters() const {
    return std::vector<double>(parameters_per_element(), 0.0);
  }

  // identity_parameters() laid out for k transformed channels: a (P * k) vector with value p
  // at param_channel(p, j, k). Conditioner factories write it into the bias of their
  // zero-initialised last layer (flows/bijectors/coupling_factories.cpp, made_for_transformer).
  Tensor<T> identity_output(std::size_t k) const {
    const std::vector<double> per_element = identity_parameters();
    Tensor<T> out({per_element.size() * k});
    for (std::size_t p = 0; p < per_element.size(); ++p)
      for (std::size_t j = 0; j < k; ++j) out[param_channel(p, j, k)] = static_cast<T>(per_element[p]);
    return out;
  }
};

// Sets `last_bias`, the bias of a conditioner's zero-initialised last layer (every other entry
// of that layer is 0, so the bias is its output), to transformer.identity_output(k): the fresh
// coupling starts as the identity. Throws std::invalid_argument if the sizes differ.
template <typename T>
void start_at_identity(Var<T> last_bias, const Transformer<T>& transformer, std::size_t k) {
  const Tensor<T> identity = transformer.identity_output(k);
  if (last_bias.shape() != identity.shape())
    throw std::invalid_argument("start_at_identity: the last layer's bias has shape " + shape_str(last_bias.shape()) +
                                ", the transformer needs " + shape_str(identity.shape()));
  last_bias.mutable_value().copy_from(identity);
}

}  // namespace fz
