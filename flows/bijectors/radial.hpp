// flows/bijectors/radial.hpp — the radial flow of Rezende & Mohamed (2015), section 4.1: a
// contraction or expansion around a reference point z0.
//
// The paper's map is the GENERATIVE direction (latent -> data), this bijector's inverse
// (flows/bijector.hpp: forward = data -> base). With r = |z - z0| and h = 1 / (alpha + r):
//   inverse:  x = z + beta h (z - z0)
//             log|det dx/dz| = (D - 1) log(1 + beta h) + log(1 + beta h + beta h'(r) r)
//                            = (D - 1) log((sp + r) / (alpha + r))
//                              + log((r^2 + 2 alpha r + sp alpha) / (alpha + r)^2)
// where the constraint beta >= -alpha (invertibility) is built in by the reparametrisation
//   alpha = softplus(alpha_raw) > 0,   beta = -alpha + sp,   sp = softplus(beta_raw) > 0,
// which is also what makes both log arguments above positive without cancellation.
//
//   forward (data -> latent): x - z0 is parallel to z - z0, and r_x = |x - z0| satisfies
//   r_x = r (1 + beta / (alpha + r)), increasing in r. That 1-D equation is the quadratic
//   r^2 + s r - r_x alpha = 0 with s = alpha + beta - r_x = sp - r_x, so forward solves it in
//   closed form (no iteration): with q = (|s| + sqrt(s^2 + 4 r_x alpha)) / 2 > 0 the positive
//   root is q when s < 0 and r_x alpha / q when s >= 0 (the form without cancellation each
//   way). Then z = z0 + (x - z0) (alpha + r) / (sp + r), log-det the negative of inverse's at r.
//   Every step is an op on the tape, so forward is exactly differentiable (unlike the planar
//   flow's root solve).
//
// r is computed as sqrt(|z - z0|^2 + 1e-30) so that z = z0 exactly has finite gradients (a
// change far below float rounding anywhere else).
// Parameters: "z0" (D), "alpha_raw" (1), "beta_raw" (1).
#pragma once

#include <memory>
#include <string>

#include "../bijector.hpp"
#include "../../tensor/random.hpp"

namespace fz {

template <typename T>
class RadialFlow : public Bijector<T> {
 public:
  RadialFlow(const Tensor<T>& z0, const Tensor<T>& alpha_raw, const Tensor<T>& beta_raw);
  std::string type_name() const override { return "RadialFlow"; }

  Transformed<T> forward(const Var<T>& x) override;   // data -> latent (closed-form quadratic root)
  Transformed<T> inverse(const Var<T>& z) override;   // latent -> data (the paper's map)

  Var<T> alpha() const;  // softplus(alpha_raw) > 0, shape (1)
  Var<T> beta() const;   // -alpha + softplus(beta_raw) >= -alpha, shape (1)
  std::size_t dims() const { return dims_; }

 private:
  void check_input(const Shape& s, const char* who) const;
  // The log-det of the generative map at radius r (B,), given alpha and sp = softplus(beta_raw).
  Var<T> generative_logdet(const Var<T>& r, const Var<T>& alpha, const Var<T>& sp) const;
  Var<T> z0_, alpha_raw_, beta_raw_;
  std::size_t dims_;
};

// A radial layer on D dims near the identity: z0 ~ N(0, 1) (centres spread over the standard
// normal base), alpha_raw = 0 (alpha = log 2), beta_raw ~ N(0, 0.1^2) (beta about 0).
template <typename T>
std::shared_ptr<RadialFlow<T>> make_radial_layer(std::size_t dims, Rng& rng);

extern template class RadialFlow<float>;
extern template class RadialFlow<double>;

}  // namespace fz
