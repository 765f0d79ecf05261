// flows/bijectors/planar.hpp — the planar flow of Rezende & Mohamed (2015), "Variational
// Inference with Normalizing Flows", section 4.1.
//
// The paper's map is the GENERATIVE direction (latent -> data), so it is this bijector's
// inverse (flows/bijector.hpp: forward = data -> base):
//   inverse:  x = z + u_hat * tanh(w^T z + b)
//             log|det dx/dz| = log|1 + u_hat^T w tanh'(w^T z + b)|          (closed form)
// Invertibility needs w^T u_hat >= -1 (then 1 + w^T u_hat tanh' > 0 everywhere). The raw
// parameter u is unconstrained; the map uses the paper's reparametrisation (its appendix A)
//   u_hat = u + (m(w^T u) - w^T u) w / |w|^2,   m(a) = -1 + softplus(a),
// so w^T u_hat = m(w^T u) > -1 for any raw u. Writing sp = softplus(w^T u) and t = tanh(.),
// 1 + w^T u_hat (1 - t^2) = t^2 + sp (1 - t^2), the form used for the log-det (no cancellation
// when w^T u_hat is close to -1).
//
//   forward (data -> latent): with alpha = w^T z, the data satisfy
//             w^T x = alpha + w^T u_hat tanh(alpha + b),
//   a 1-D equation increasing in alpha, root in [w^T x - |c|, w^T x + |c|] for c = w^T u_hat.
//   It is solved per sample in double precision by Newton's method safeguarded by bisection,
//   to |residual| <= 1e-13 (1 + |w^T x| + |c|) (or 200 iterations; bisection alone would reach
//   that in about 60), then z = x - u_hat tanh(alpha + b), log-det the negative of inverse's.
//   Gradients: the root itself is a constant, but one Newton step alpha* - g(alpha*)/g'(alpha*)
//   is recorded on the tape with g'(alpha*) held constant. Its value is the root again and its
//   first derivatives with respect to x, w, u and b are exactly those of the implicit function
//   (-dg/dtheta / g'), so forward is differentiable to FIRST order (the conformance gradient
//   check covers it); second derivatives through the root are not correct. Forward is what the
//   density (log q(x) on a grid for pictures, evaluation) uses; training by the reverse KL
//   uses only inverse, which is closed form.
//
// Parameters: "w" (D), "u" (D, raw), "b" (1). make_planar_layer initialises each layer near the
// identity (see planar.cpp).
#pragma once

#include <memory>
#include <string>

#include "../bijector.hpp"
#include "../../tensor/random.hpp"

namespace fz {

template <typename T>
class PlanarFlow : public Bijector<T> {
 public:
  // A layer on D-dimensional vectors with the given raw parameters (each of shape (D), b (1)).
  PlanarFlow(const Tensor<T>& w, const Tensor<T>& u, const Tensor<T>& b);
  std::string type_name() const override { return "PlanarFlow"; }

  Transformed<T> forward(const Var<T>& x) override;   // data -> latent (root solve)
  Transformed<T> inverse(const Var<T>& z) override;   // latent -> data (the paper's map)

  // The constrained u_hat (D); w^T u_hat = -1 + softplus(w^T u) >= -1.
  Var<T> u_hat() const;
  std::size_t dims() const { return dims_; }

 private:
  void check_input(const Shape& s, const char* who) const;
  Var<T> w_, u_, b_;
  std::size_t dims_;
};

// A planar layer on D dims near the identity: w a random unit vector, u such that u_hat is small
// noise of sd 0.1 / sqrt(D), b ~ N(0, 0.1^2).
template <typename T>
std::shared_ptr<PlanarFlow<T>> make_planar_layer(std::size_t dims, Rng& rng);

extern template class PlanarFlow<float>;
extern template class PlanarFlow<double>;

}  // namespace fz
