// flows/ode/ode_state.cpp — the state arithmetic of the Runge-Kutta stages, as Var ops.
#include "flows/ode/ode_state.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/ops_elementwise.hpp"

namespace fz {

template <typename T>
OdeState<T> ode_combine(const OdeState<T>& y, const std::vector<double>& weights,
                        const std::vector<OdeState<T>>& k) {
  if (weights.size() > k.size()) throw std::logic_error("ode_combine: more weights than stages");
  OdeState<T> out = y;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] == 0.0) continue;
    for (std::size_t p = 0; p < out.size(); ++p) out[p] = add(out[p], mul_scalar(k[i][p], T(weights[i])));
  }
  return out;
}

template <typename T>
void check_derivative(const char* solver, const OdeState<T>& y, const OdeState<T>& dy) {
  if (dy.size() != y.size())
    throw std::invalid_argument(std::string(solver) + ": the right-hand side returned " + std::to_string(dy.size()) +
                                " parts for a state of " + std::to_string(y.size()));
  for (std::size_t p = 0; p < y.size(); ++p)
    if (!dy[p].defined() || dy[p].shape() != y[p].shape())
      throw std::invalid_argument(std::string(solver) + ": the derivative of state part " + std::to_string(p) +
                                  " has shape " + (dy[p].defined() ? shape_str(dy[p].shape()) : "(undefined)") +
                                  ", the part " + shape_str(y[p].shape()));
}

template <typename T>
bool ode_state_finite(const OdeState<T>& y) {
  for (const Var<T>& part : y)
    for (T v : part.value())
      if (!std::isfinite(v)) return false;
  return true;
}

template OdeState<float> ode_combine(const OdeState<float>&, const std::vector<double>&,
                                     const std::vector<OdeState<float>>&);
template OdeState<double> ode_combine(const OdeState<double>&, const std::vector<double>&,
                                      const std::vector<OdeState<double>>&);
template void check_derivative(const char*, const OdeState<float>&, const OdeState<float>&);
template void check_derivative(const char*, const OdeState<double>&, const OdeState<double>&);
template bool ode_state_finite(const OdeState<float>&);
template bool ode_state_finite(const OdeState<double>&);

}  // namespace fz
