// tests/flows/bijector_registry.hpp — THE list of bijectors the conformance harness checks.
// Adding a bijector to flowzoo's test suite = adding one BijectorCase to bijector_registry.cpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flows/bijector.hpp"
#include "tensor/random.hpp"

namespace fz::testing {

struct BijectorCase {
  std::string name;
  // Builds the bijector (float64) with its initial parameters.
  std::function<std::shared_ptr<Bijector<double>>(Rng&)> make;
  Shape input_shape;         // batch first, e.g. {3, 6} or {2, 4, 4, 4}
  double input_lo = -2.0;    // random inputs are drawn uniformly from [input_lo, input_hi]
  double input_hi = 2.0;
  // Edge inputs: every element set to each of these values must give finite outputs.
  std::vector<double> edge_values = {-20.0, 0.0, 20.0};
  // Parameters get N(0, param_noise^2) added after construction so zero-initialised layers
  // are not the identity when checked (0 keeps the initial parameters).
  double param_noise = 0.1;
  double logdet_tolerance = 1e-6;
  // Also check the gradients in training mode (batch norm: batch statistics, through which
  // every sample's output depends on the whole batch).
  bool check_training_mode = false;
  // Autoregressive layers (MAF, IAF): returns the built layer's order (order[0] depends on
  // nothing). The harness then checks that the finite-difference Jacobian, rows and columns
  // taken in that order, is exactly 0 above the diagonal.
  std::function<std::vector<std::size_t>(Bijector<double>&)> autoregressive_order = {};
};

std::vector<BijectorCase> all_bijector_cases();

// The modules of a flow that are not bijectors but carry parameters of the likelihood: a
// Split (kept half, factored-out half and log p(z | kept)) and the base distributions
// (log p(z)). `outputs` evaluates the module on an input and returns every differentiable
// result; the harness checks the gradients of a random weighted sum of them, and
// `reference_log_prob`, when given, recomputes the log-density independently from the
// module's parameters (by name) for comparison with the module's own.
struct ModuleCase {
  std::string name;
  std::function<std::shared_ptr<Module<double>>(Rng&)> make;
  std::function<std::vector<Var64>(Module<double>&, const Var64&)> outputs;
  Shape input_shape;
  std::function<Tensor64(Module<double>&, const Tensor64&)> reference_log_prob;
  double param_noise = 0.1;
};

std::vector<ModuleCase> all_module_cases();

}  // namespace fz::testing
