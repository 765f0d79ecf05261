// flows/ode/ode_solver.cpp — dispatch to rk4 or dopri5 by name.
#include "flows/ode/ode_solver.hpp"

#include <cmath>
#include <stdexcept>

#include "flows/ode/rk4.hpp"

namespace fz {

std::string ode_solver_refusal(const OdeSolverOptions& o) {
  if (o.method == "rk4") return o.steps >= 1 ? "" : "rk4 needs at least one step";
  if (o.method == "dopri5") {
    const auto good = [](double v) { return v > 0 && v < 1 && std::isfinite(v); };
    if (!good(o.rtol) || !good(o.atol)) return "dopri5's rtol and atol must be in (0, 1)";
    return o.max_steps >= 1 ? "" : "dopri5's step cap must be at least 1";
  }
  return "unknown ODE solver '" + o.method + "' (rk4, dopri5)";
}

template <typename T>
OdeState<T> solve_ode(const OdeSolverOptions& o, const OdeFunction<T>& f, const OdeState<T>& y0, double t0,
                      double t1, OdeStats& stats) {
  const std::string refusal = ode_solver_refusal(o);
  if (!refusal.empty()) throw std::invalid_argument(refusal);
  if (o.method == "rk4") return integrate_rk4(f, y0, t0, t1, o.steps, stats);
  DormandPrinceOptions d;
  d.rtol = o.rtol;
  d.atol = o.atol;
  d.max_steps = o.max_steps;
  return integrate_dormand_prince(f, y0, t0, t1, d, stats);
}

template OdeState<float> solve_ode(const OdeSolverOptions&, const OdeFunction<float>&, const OdeState<float>&, double,
                                   double, OdeStats&);
template OdeState<double> solve_ode(const OdeSolverOptions&, const OdeFunction<double>&, const OdeState<double>&,
                                    double, double, OdeStats&);

}  // namespace fz
