// tests/gradcheck_helpers.hpp — what every gradcheck test file needs: seeded random inputs
// (from fz::Rng, the project's one generator, so a seed means the same numbers everywhere) and
// the assertion that a function's backward matches its central-difference Jacobian.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
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

// Distinct values spread over [lo, hi] (no ties, scrambled order): deterministic inputs for the
// element-wise checks, where ties would sit on max/min kinks.
inline Tensor64 values(const Shape& s, double lo, double hi, unsigned salt = 0) {
  Tensor64 t(s);
  for (std::size_t i = 0; i < t.numel(); ++i)
    t[i] = lo + (hi - lo) * std::fmod(0.6180339887 * double(i * 5 + salt * 13) + 0.05 * salt + 0.013, 1.0);
  return t;
}

// Magnitudes in [0.2, 2] with mixed signs: away from the kinks of relu, abs, clamp, leaky_relu, elu.
inline Tensor64 nonzero(const Shape& s, unsigned salt = 0) {
  Tensor64 t = values(s, 0.2, 2.0, salt);
  for (std::size_t i = 0; i < t.numel(); ++i)
    if ((i + salt) % 3 != 0) t[i] = -t[i];
  return t;
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
