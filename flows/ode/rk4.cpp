// flows/ode/rk4.cpp — fixed-step RK4 on Var states.
#include "flows/ode/rk4.hpp"

#include <stdexcept>

namespace fz {

template <typename T>
OdeState<T> integrate_rk4(const OdeFunction<T>& f, const OdeState<T>& y0, double t0, double t1, std::size_t steps,
                          OdeStats& stats) {
  if (steps == 0) throw std::invalid_argument("rk4: needs at least one step");
  const double h = (t1 - t0) / double(steps);
  auto eval = [&](double t, const OdeState<T>& y) {
    OdeState<T> dy = f(T(t), y);
    ++stats.function_evaluations;
    check_derivative("rk4", y, dy);
    return dy;
  };
  OdeState<T> y = y0;
  for (std::size_t s = 0; s < steps; ++s) {
    // The time of step s from its index, not by accumulation, so the last step ends at t1 exactly.
    const double t = t0 + double(s) * h;
    std::vector<OdeState<T>> k(4);
    k[0] = eval(t, y);
    k[1] = eval(t + h / 2, ode_combine(y, {h / 2}, k));
    k[2] = eval(t + h / 2, ode_combine(y, {0.0, h / 2}, k));
    k[3] = eval(t + h, ode_combine(y, {0.0, 0.0, h}, k));
    y = ode_combine(y, {h / 6, h / 3, h / 3, h / 6}, k);
    ++stats.accepted_steps;
  }
  return y;
}

template OdeState<float> integrate_rk4(const OdeFunction<float>&, const OdeState<float>&, double, double,
                                       std::size_t, OdeStats&);
template OdeState<double> integrate_rk4(const OdeFunction<double>&, const OdeState<double>&, double, double,
                                        std::size_t, OdeStats&);

}  // namespace fz
