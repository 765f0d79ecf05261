// flows/bijectors/residual_block.hpp — the invertible residual block of i-ResNets and Residual
// Flows (Behrmann et al. 2019, Chen et al. 2019) on vectors (B, D):
//
//   forward:  y = x + g(x),  g a LipschitzMLP (flows/conditioners/lipschitz_mlp.hpp) with
//             Lip(g) <= coefficient < 1, so the map is invertible and
//             log|det dy/dx| = log det(I + J_g(x)) = sum_k (-1)^{k+1} tr(J_g^k) / k.
//   inverse:  the fixed-point iteration x_{k+1} = y - g(x_k) from x_0 = y, a contraction with
//             rate Lip(g). x_k + g(x_k) - y = x_k - x_{k+1}, so the step is the forward residual:
//             it stops once max |x_{k+1} - x_k| <= tolerance * max(1, max |y|) and throws after
//             max_iterations without that (naming the residual). Not differentiable: sampling only
//             (run under no-grad; the result carries no graph).
//
// The log-det (flows/logdet_estimators.hpp):
//   training mode   `training_logdet`: the unbiased Russian-roulette estimator with the Neumann
//                   gradient (the default), the truncated power series, or exact.
//   eval mode and   exact (D Jacobian-vector products and an LU per sample) when D <= exact_max_dims
//   the inverse     (8): the 2-D models' eval, density and sample log-densities are then
//                   deterministic and exact; above that, the training estimator (a fresh draw).
// Probes and roulette draws come from the block's own generator, split from the Rng it was
// built with (not saved in checkpoints: a resumed run draws other probes).
// A training forward also advances the spectral normalisation's power iteration (to convergence).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "../bijector.hpp"
#include "../conditioners/lipschitz_mlp.hpp"
#include "../logdet_estimators.hpp"

namespace fz {

enum class ResidualLogdet { Roulette, Series, Exact };

struct ResidualBlockOptions {
  std::size_t hidden = 128;
  std::size_t hidden_layers = 2;  // so 3 linear maps
  double coefficient = 0.97;       // the Lipschitz bound of g
  ResidualLogdet training_logdet = ResidualLogdet::Roulette;
  std::size_t series_terms = 5;    // the power series' terms (ResidualLogdet::Series)
  RouletteOptions roulette;
  ProbeKind probe = ProbeKind::Gaussian;
  std::size_t exact_max_dims = 8;  // eval mode and the inverse use the exact log-det up to this D
  double inverse_tolerance = 0;    // 0: 1e-5 in float, 1e-10 in double
  std::size_t inverse_max_iterations = 2000;
};

// How the last inverse() converged.
struct FixedPointReport {
  std::size_t iterations = 0;
  double residual = 0;  // max |x + g(x) - y| at the returned x's predecessor step
};

template <typename T>
class ResidualBlock : public Bijector<T> {
 public:
  ResidualBlock(std::size_t dims, const ResidualBlockOptions& options, Rng& rng);
  std::string type_name() const override { return "ResidualBlock"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  LipschitzMLP<T>& branch() { return *g_; }
  const ResidualBlockOptions& options() const { return options_; }
  const FixedPointReport& last_inverse() const { return last_inverse_; }
  double inverse_tolerance() const;

 private:
  void check_input(const Var<T>& x, const char* who) const;
  ResidualJacobian<T> jacobian(const typename LipschitzMLP<T>::Pass& pass, const std::vector<Var<T>>& weights,
                               std::size_t batch) const;
  Var<T> logdet(const ResidualJacobian<T>& J, ResidualLogdet method);

  std::size_t dims_;
  ResidualBlockOptions options_;
  std::shared_ptr<LipschitzMLP<T>> g_;
  Rng rng_;
  FixedPointReport last_inverse_;
};

extern template class ResidualBlock<float>;
extern template class ResidualBlock<double>;

}  // namespace fz
