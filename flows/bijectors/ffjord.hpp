// flows/bijectors/ffjord.hpp — Ffjord: a continuous normalizing flow (Grathwohl et al. 2019,
// "FFJORD"), the bijector given by the solution map of dz/dt = f(z, t; theta) over [0, 1].
//
// The change of variables in continuous time (Chen et al. 2018): along a solution,
//   d log|det dz(t)/dz(0)| / dt = tr(df/dz (z(t), t)),
// so the solver integrates the augmented state (z, l) with dl/dt = tr(df/dz), l(0) = 0:
//   forward(x)  (data -> latent): z(0) = x, t from 0 to 1; log|det| = l(1) = int_0^1 tr dt
//   inverse(z)  (latent -> data): z(1) = z, t from 1 to 0; log|det| = l(0), the negative.
// The trace, per sample, from M tangents v_m of f's Jacobian-vector products
// (flows/conditioners/ode_dynamics.hpp):  tr ~ sum_m v_m^T (df/dz) v_m
//   exact        v_m = e_m, m = 1..D (D products per evaluation; a deterministic log-det)
//   Hutchinson   one random v per sample, fixed for the whole solve (Rademacher +-1, or
//                standard normal): E[v^T J v] = tr J, an unbiased estimate of the log-det
// Which one: exact when D <= exact_trace_max_dims (8) in training mode, and in eval mode when
// D <= eval_exact_trace_max_dims (64); Hutchinson otherwise. So every 2-D model evaluates,
// trains and draws its densities with the exact trace, and eval/density are deterministic.
//
// Gradients: by backpropagation through the solver's recorded steps (flows/ode/), exact for
// the discretised flow (RK4: of that map; dopri5: of the accepted steps, step sizes held
// constant). Both directions are the same solver run each way, so inverse(forward(x)) == x
// only up to the solver's error (rk4: O(h^4); dopri5: about the tolerance).
// Parameters: the dynamics' ("dynamics.layer0.weight", ...).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../bijector.hpp"
#include "../conditioners/ode_dynamics.hpp"
#include "../ode/ode_solver.hpp"
#include "../../tensor/random.hpp"

namespace fz {

struct FfjordOptions {
  OdeSolverOptions solver;
  std::size_t exact_trace_max_dims = 8;        // training mode: exact trace up to this D
  std::size_t eval_exact_trace_max_dims = 64;  // eval mode: exact trace up to this D
  bool gaussian_probes = false;                // Hutchinson: standard normal instead of Rademacher
};

template <typename T>
class Ffjord : public Bijector<T> {
 public:
  // probe_seed seeds the Hutchinson probes (drawn afresh for every solve).
  Ffjord(std::shared_ptr<OdeDynamics<T>> dynamics, FfjordOptions options, std::uint64_t probe_seed = 0);
  std::string type_name() const override { return "Ffjord"; }

  Transformed<T> forward(const Var<T>& x) override { return forward_with(x, this->parameters()); }
  Transformed<T> inverse(const Var<T>& z) override { return inverse_with(z, this->parameters()); }
  // The same with `params` in place of parameters() (gradcheck of the parameters).
  Transformed<T> forward_with(const Var<T>& x, const std::vector<Var<T>>& params);
  Transformed<T> inverse_with(const Var<T>& z, const std::vector<Var<T>>& params);

  // Whether the next solve uses the exact trace (from the mode and D).
  bool exact_trace() const;
  // Evaluations and steps of every solve so far (reset_stats starts again).
  const OdeStats& stats() const { return stats_; }
  void reset_stats() { stats_ = OdeStats(); }
  const OdeDynamics<T>& dynamics() const { return *dynamics_; }
  const FfjordOptions& options() const { return options_; }
  void set_solver(const OdeSolverOptions& solver) { options_.solver = solver; }

 private:
  Transformed<T> integrate(const Var<T>& x, double t0, double t1, const std::vector<Var<T>>& params);
  // (M, B, D): the basis vectors (exact) or one random vector per sample (Hutchinson).
  Tensor<T> probes(std::size_t batch);

  std::shared_ptr<OdeDynamics<T>> dynamics_;
  FfjordOptions options_;
  Rng rng_;
  OdeStats stats_;
};

extern template class Ffjord<float>;
extern template class Ffjord<double>;

}  // namespace fz
