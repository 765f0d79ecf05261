// tests/gradcheck_helpers.hpp — what every gradcheck test file needs: seeded random inputs
// (from fz::Rng, the project's one generator, so a seed means the same numbers everywhere) and
// the assertion that a function's backward matches its central-difference Jacobian.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "tensor/random.hpp"

namespace fz::test {

// Uniform in [lo, hi), drawn from Rng(seed).
template <typename T = double>
Tensor<T> random_uniform(const Shape& shape, std::uint64_t seed, double lo = -2.0, double hi = 2.0) {
  Rng rng(seed);
  return rng.uniform<T>(shape, static_cast<T>(lo), static_cast<T>(hi));
}

// REQUIREs that f's analytic Jacobian matches central differences (autograd/gradcheck.hpp) on
// every input, and that something was checked; the worst entry is printed on failure.
inline void require_gradcheck(const VarFunction64& f, const std::vector<Tensor64>& inputs,
                              const GradcheckOptions& options = {}) {
  const GradcheckResult r = gradcheck(f, inputs, options);
  INFO(r.message);
  REQUIRE(r.ok);
  REQUIRE(r.entries_checked > 0);
}

}  // namespace fz::test
