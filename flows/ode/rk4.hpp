// flows/ode/rk4.hpp — the classical fixed-step Runge-Kutta method of order 4:
//   k1 = f(t, y), k2 = f(t + h/2, y + h/2 k1), k3 = f(t + h/2, y + h/2 k2), k4 = f(t + h, y + h k3)
//   y(t + h) = y + h/6 (k1 + 2 k2 + 2 k3 + k4)
// with `steps` equal steps h = (t1 - t0) / steps (t1 < t0 integrates backwards). Global error
// O(h^4); 4 evaluations of f per step. Every stage is recorded on the tape, so backward gives the
// exact gradient of the discretised solution.
#pragma once

#include <cstddef>

#include "ode_state.hpp"

namespace fz {

// y(t1) from y(t0) = y0. Throws std::invalid_argument when steps is 0 or f returns parts of the
// wrong shape. Adds its evaluations and steps to `stats`.
template <typename T>
OdeState<T> integrate_rk4(const OdeFunction<T>& f, const OdeState<T>& y0, double t0, double t1, std::size_t steps,
                          OdeStats& stats);

extern template OdeState<float> integrate_rk4(const OdeFunction<float>&, const OdeState<float>&, double, double,
                                              std::size_t, OdeStats&);
extern template OdeState<double> integrate_rk4(const OdeFunction<double>&, const OdeState<double>&, double, double,
                                               std::size_t, OdeStats&);

}  // namespace fz
