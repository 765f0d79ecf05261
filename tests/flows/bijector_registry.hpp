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
};

std::vector<BijectorCase> all_bijector_cases();

}  // namespace fz::testing
