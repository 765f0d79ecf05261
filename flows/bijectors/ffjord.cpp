// flows/bijectors/ffjord.cpp — the continuous normalizing flow: the augmented ODE (z, log-det)
// handed to the solver, with the exact or Hutchinson trace (see the header).
#include "flows/bijectors/ffjord.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

template <typename T>
Ffjord<T>::Ffjord(std::shared_ptr<OdeDynamics<T>> dynamics, FfjordOptions options, std::uint64_t probe_seed)
    : options_(std::move(options)), rng_(probe_seed) {
  if (!dynamics) throw std::invalid_argument("Ffjord: no dynamics");
  const std::string refusal = ode_solver_refusal(options_.solver);
  if (!refusal.empty()) throw std::invalid_argument("Ffjord: " + refusal);
  dynamics_ = this->register_module("dynamics", std::move(dynamics));
}

template <typename T>
bool Ffjord<T>::exact_trace() const {
  const std::size_t limit = this->is_training() ? options_.exact_trace_max_dims : options_.eval_exact_trace_max_dims;
  return dynamics_->dims() <= limit;
}

template <typename T>
Tensor<T> Ffjord<T>::probes(std::size_t batch) {
  const std::size_t d = dynamics_->dims();
  if (exact_trace()) {
    Tensor<T> p(Shape{d, batch, d});
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t b = 0; b < batch; ++b) p[(j * batch + b) * d + j] = T(1);
    return p;
  }
  if (options_.gaussian_probes) return rng_.normal<T>(Shape{1, batch, d});
  Tensor<T> p = rng_.uniform<T>(Shape{1, batch, d});
  for (T& v : p) v = v < T(0.5) ? T(-1) : T(1);
  return p;
}

template <typename T>
Transformed<T> Ffjord<T>::integrate(const Var<T>& x, double t0, double t1, const std::vector<Var<T>>& params) {
  if (x.dim() != 2 || x.shape()[1] != dynamics_->dims())
    throw std::invalid_argument("Ffjord: expected input (B, " + std::to_string(dynamics_->dims()) + "), got " +
                                shape_str(x.shape()));
  const std::size_t batch = x.shape()[0];
  const Var<T> tangents(probes(batch));  // a constant of the solve
  const OdeDynamics<T>& f = *dynamics_;
  const OdeFunction<T> rhs = [&](T t, const OdeState<T>& y) {
    const VelocityWithJvp<T> r = f.velocity_and_jvp_with(t, y[0], tangents, params);
    // sum_m v_m^T (J v_m), per sample: (M, B, D) -> (B,)
    return OdeState<T>{r.velocity, sum(mul(r.jvp, tangents), std::vector<int>{0, 2})};
  };
  const OdeState<T> y0 = {x, Var<T>(Tensor<T>(Shape{batch}))};
  const OdeState<T> y1 = solve_ode(options_.solver, rhs, y0, t0, t1, stats_);
  return {y1[0], y1[1]};
}

template <typename T>
Transformed<T> Ffjord<T>::forward_with(const Var<T>& x, const std::vector<Var<T>>& params) {
  return integrate(x, 0.0, 1.0, params);
}

template <typename T>
Transformed<T> Ffjord<T>::inverse_with(const Var<T>& z, const std::vector<Var<T>>& params) {
  return integrate(z, 1.0, 0.0, params);
}

template class Ffjord<float>;
template class Ffjord<double>;

}  // namespace fz
