// flows/conditioners/ode_dynamics.cpp — the CNF velocity MLP and its hand-propagated
// Jacobian-vector products (see the header).
#include "flows/conditioners/ode_dynamics.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_matmul.hpp"

namespace fz {

OdeActivation ode_activation_from_name(const std::string& name) {
  if (name == "tanh") return OdeActivation::Tanh;
  if (name == "softplus") return OdeActivation::Softplus;
  throw std::invalid_argument("unknown ODE activation '" + name + "' (tanh, softplus)");
}

template <typename T>
OdeDynamics<T>::OdeDynamics(std::size_t dims, std::size_t hidden, std::size_t hidden_layers, Rng& rng,
                            OdeActivation activation)
    : dims_(dims), activation_(activation) {
  if (dims == 0 || hidden == 0)
    throw std::invalid_argument("OdeDynamics: sizes must be positive (dims " + std::to_string(dims) + ", hidden " +
                                std::to_string(hidden) + ")");
  std::vector<std::size_t> sizes{dims};
  for (std::size_t i = 0; i < hidden_layers; ++i) sizes.push_back(hidden);
  sizes.push_back(dims);
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const bool last = l + 2 == sizes.size();
    // in + 1 inputs: the last column multiplies t.
    auto layer = std::make_shared<Linear<T>>(sizes[l] + 1, sizes[l + 1], rng, /*bias=*/true,
                                             last ? LinearInit::Zeros : LinearInit::Default);
    layers_.push_back(this->register_module("layer" + std::to_string(l), layer));
  }
}

template <typename T>
Var<T> OdeDynamics<T>::velocity_with(T t, const Var<T>& z, const std::vector<Var<T>>& params) const {
  return run(t, z, Var<T>(), params).velocity;
}

template <typename T>
VelocityWithJvp<T> OdeDynamics<T>::velocity_and_jvp_with(T t, const Var<T>& z, const Var<T>& tangents,
                                                         const std::vector<Var<T>>& params) const {
  if (!tangents.defined() || tangents.dim() != 3 || tangents.shape()[1] != z.shape()[0] ||
      tangents.shape()[2] != dims_)
    throw std::invalid_argument("OdeDynamics: tangents must be (M, " + std::to_string(z.shape()[0]) + ", " +
                                std::to_string(dims_) + "), got " +
                                (tangents.defined() ? shape_str(tangents.shape()) : std::string("(undefined)")));
  return run(t, z, tangents, params);
}

template <typename T>
VelocityWithJvp<T> OdeDynamics<T>::run(T t, const Var<T>& z, const Var<T>& tangents,
                                       const std::vector<Var<T>>& params) const {
  if (z.dim() != 2 || z.shape()[1] != dims_)
    throw std::invalid_argument("OdeDynamics: expected z of shape (B, " + std::to_string(dims_) + "), got " +
                                shape_str(z.shape()));
  if (params.size() != 2 * layers_.size())
    throw std::invalid_argument("OdeDynamics: expected " + std::to_string(2 * layers_.size()) + " parameters, got " +
                                std::to_string(params.size()));
  const std::size_t batch = z.shape()[0];
  const std::size_t m = tangents.defined() ? tangents.shape()[0] : 0;
  Var<T> h = z;
  Var<T> v = m ? reshape(tangents, {m * batch, dims_}) : Var<T>();  // (M B, in)
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Var<T>& weight = params[2 * l];
    const Var<T>& bias = params[2 * l + 1];
    const std::size_t in = layers_[l]->in_features() - 1, out = layers_[l]->out_features();
    if (weight.shape() != Shape{out, in + 1} || bias.shape() != Shape{out})
      throw std::invalid_argument("OdeDynamics: parameter shapes of layer " + std::to_string(l) + " are " +
                                  shape_str(weight.shape()) + " and " + shape_str(bias.shape()) + ", expected " +
                                  shape_str(Shape{out, in + 1}) + " and " + shape_str(Shape{out}));
    const Var<T> w_z = slice(weight, 1, 0, long(in));                          // (out, in)
    const Var<T> w_t = reshape(slice(weight, 1, long(in), long(in) + 1), {out});  // (out)
    const Var<T> a = add(linear(h, w_z, bias), mul_scalar(w_t, t));            // (B, out)
    Var<T> u = m ? linear(v, w_z) : Var<T>();                                  // (M B, out)
    if (l + 1 == layers_.size()) {
      h = a;
      v = u;
      break;
    }
    Var<T> slope;  // phi'(a), (B, out)
    if (activation_ == OdeActivation::Tanh) {
      h = tanh(a);
      if (m) slope = rsub_scalar(T(1), square(h));
    } else {
      h = softplus(a);
      if (m) slope = sigmoid(a);
    }
    if (m) v = reshape(mul(reshape(u, {m, batch, out}), slope), {m * batch, out});
  }
  VelocityWithJvp<T> r;
  r.velocity = h;
  if (m) r.jvp = reshape(v, {m, batch, dims_});
  return r;
}

template class OdeDynamics<float>;
template class OdeDynamics<double>;

}  // namespace fz
