// flows/ode/ode_solver.hpp — one entry point for the two solvers, chosen by name:
//   "rk4"     fixed steps (flows/ode/rk4.hpp): `steps` steps, 4 evaluations each
//   "dopri5"  adaptive Dormand-Prince 5(4) (flows/ode/dormand_prince.hpp): `rtol`, `atol`,
//             at most `max_steps` attempted steps
// The CLI's --ode-solver, --ode-steps, --ode-rtol and --ode-atol fill these fields.
#pragma once

#include <cstddef>
#include <string>

#include "dormand_prince.hpp"
#include "ode_state.hpp"

namespace fz {

struct OdeSolverOptions {
  std::string method = "dopri5";  // rk4 | dopri5
  std::size_t steps = 8;          // rk4
  double rtol = 1e-5;             // dopri5
  double atol = 1e-5;             // dopri5
  std::size_t max_steps = 1000;   // dopri5
};

// "" when the options can be used, else what is wrong in words ("unknown ODE solver 'x' (rk4,
// dopri5)", "rk4 needs at least one step", ...).
std::string ode_solver_refusal(const OdeSolverOptions& options);

// y(t1) from y(t0) = y0 with the chosen solver; throws std::invalid_argument for options that
// ode_solver_refusal refuses, and what the solver throws.
template <typename T>
OdeState<T> solve_ode(const OdeSolverOptions& options, const OdeFunction<T>& f, const OdeState<T>& y0, double t0,
                      double t1, OdeStats& stats);

extern template OdeState<float> solve_ode(const OdeSolverOptions&, const OdeFunction<float>&,
                                          const OdeState<float>&, double, double, OdeStats&);
extern template OdeState<double> solve_ode(const OdeSolverOptions&, const OdeFunction<double>&,
                                           const OdeState<double>&, double, double, OdeStats&);

}  // namespace fz
