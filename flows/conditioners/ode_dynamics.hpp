// flows/conditioners/ode_dynamics.hpp — OdeDynamics: the velocity field f(z, t; theta) of a
// continuous normalizing flow (flows/bijectors/ffjord.hpp), an MLP with the time as an input:
//   h_0 = z,   a_l = W_l [h_l; t] + b_l  (l = 0..L),   h_{l+1} = phi(a_l),   f = a_L
// with L = hidden_layers, every hidden width `hidden`, phi = tanh or softplus (smooth: the
// flow needs a Lipschitz, differentiable f). Each map is a Linear (autograd/nn/linear.hpp)
// with one extra input column for t ("concat" layers, as FFJORD's toy models), registered as
// children "layer0" .. "layer<L>"; the last map starts at zero, so the flow starts as the
// identity.
//
// velocity_and_jvp also returns Jacobian-vector products J v = (df/dz) v for M tangents v at
// once, by propagating them through the network with Var ops (forward-mode by hand):
//   v_0 = v,   u_l = W_l^z v_l   (the z columns of W_l, no bias, no t),   v_{l+1} = phi'(a_l) * u_l
// with phi'(a) = 1 - tanh(a)^2 or sigmoid(a) written as Var ops. So J v is itself a recorded,
// differentiable function of z, t and theta, and the trace estimate v^T J v that FFJORD
// integrates gets exact first-order gradients without double backward.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../../autograd/nn/linear.hpp"
#include "../../autograd/nn/module.hpp"
#include "../../tensor/random.hpp"

namespace fz {

enum class OdeActivation { Tanh, Softplus };

// "tanh" | "softplus"; throws std::invalid_argument naming the choices otherwise.
OdeActivation ode_activation_from_name(const std::string& name);

template <typename T>
struct VelocityWithJvp {
  Var<T> velocity;  // (B, D)
  Var<T> jvp;       // (M, B, D): row m is (df/dz) tangents[m], sample by sample
};

template <typename T>
class OdeDynamics : public Module<T> {
 public:
  // Throws std::invalid_argument if dims or hidden is 0.
  OdeDynamics(std::size_t dims, std::size_t hidden, std::size_t hidden_layers, Rng& rng,
              OdeActivation activation = OdeActivation::Tanh);
  std::string type_name() const override { return "OdeDynamics"; }

  // f(z, t): z (B, D) -> (B, D), with the module's parameters.
  Var<T> velocity(T t, const Var<T>& z) const { return velocity_with(t, z, this->parameters()); }
  // The same with `params` in place of the module's own, in the order of parameters()
  // (layer0.weight, layer0.bias, layer1.weight, ...): lets gradcheck differentiate them.
  Var<T> velocity_with(T t, const Var<T>& z, const std::vector<Var<T>>& params) const;
  // f(z, t) and (df/dz) v for tangents (M, B, D).
  VelocityWithJvp<T> velocity_and_jvp(T t, const Var<T>& z, const Var<T>& tangents) const {
    return velocity_and_jvp_with(t, z, tangents, this->parameters());
  }
  VelocityWithJvp<T> velocity_and_jvp_with(T t, const Var<T>& z, const Var<T>& tangents,
                                           const std::vector<Var<T>>& params) const;

  std::size_t dims() const { return dims_; }
  std::size_t layers() const { return layers_.size(); }
  OdeActivation activation() const { return activation_; }

 private:
  // One pass; tangents undefined = no Jacobian-vector products.
  VelocityWithJvp<T> run(T t, const Var<T>& z, const Var<T>& tangents, const std::vector<Var<T>>& params) const;

  std::size_t dims_;
  OdeActivation activation_;
  std::vector<std::shared_ptr<Linear<T>>> layers_;
};

extern template class OdeDynamics<float>;
extern template class OdeDynamics<double>;

}  // namespace fz
