// flows/ode/ode_state.hpp — what the ODE solvers integrate: a state made of several Vars
// (FFJORD's is the points z and their accumulated log-det), the right-hand side f(t, y) as a
// function of Vars, the solver's counters, and the state arithmetic the Runge-Kutta stages use.
//
// Every stage is built from differentiable Var ops, so a reverse pass through the tape
// differentiates the discretised solution (backpropagation through the solver). The step
// sizes, and for the adaptive solver the accept/reject decisions, are plain numbers: constants
// of that computation.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "../../autograd/var.hpp"

namespace fz {

// The parts of one state, e.g. {z (B, D), log-det (B,)}; every function of the solver keeps
// their number and shapes.
template <typename T>
using OdeState = std::vector<Var<T>>;

// dy/dt = f(t, y): returns one derivative per part of y, with the part's shape.
template <typename T>
using OdeFunction = std::function<OdeState<T>(T t, const OdeState<T>& y)>;

// Counters of one or more solves (add up across calls).
struct OdeStats {
  std::size_t function_evaluations = 0;  // NFE: calls of f, step-size probes included
  std::size_t accepted_steps = 0;
  std::size_t rejected_steps = 0;        // adaptive solver only
};

// y + sum_i weights[i] * k[i] (weights of 0 are skipped; k[i] may then be empty), part by
// part, as Var ops.
template <typename T>
OdeState<T> ode_combine(const OdeState<T>& y, const std::vector<double>& weights,
                        const std::vector<OdeState<T>>& k);

// Checks that f returned one derivative per part of y with the part's shape; throws
// std::invalid_argument naming `solver` otherwise.
template <typename T>
void check_derivative(const char* solver, const OdeState<T>& y, const OdeState<T>& dy);

// True when every value of every part is finite.
template <typename T>
bool ode_state_finite(const OdeState<T>& y);

extern template OdeState<float> ode_combine(const OdeState<float>&, const std::vector<double>&,
                                            const std::vector<OdeState<float>>&);
extern template OdeState<double> ode_combine(const OdeState<double>&, const std::vector<double>&,
                                             const std::vector<OdeState<double>>&);
extern template void check_derivative(const char*, const OdeState<float>&, const OdeState<float>&);
extern template void check_derivative(const char*, const OdeState<double>&, const OdeState<double>&);
extern template bool ode_state_finite(const OdeState<float>&);
extern template bool ode_state_finite(const OdeState<double>&);

}  // namespace fz
