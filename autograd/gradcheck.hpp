// autograd/gradcheck.hpp — the project's ground truth: compare backward() against a full
// Jacobian computed by central differences, in float64.
//
// For f: (x_1..x_k) -> y, the analytic Jacobian row i comes from one reverse pass seeded with
// the unit vector e_i; the numeric column j of input k is (f(x + eps e_j) - f(x - eps e_j)) / 2eps.
// Every entry must satisfy |analytic - numeric| <= atol + rtol * |numeric|.
// gradgradcheck does the same for the backward pass itself (second derivatives).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "var.hpp"

namespace fz {

using VarFunction64 = std::function<Var64(const std::vector<Var64>& inputs)>;

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::size_t entries_checked = 0;
  std::string message;  // describes the worst entry when !ok
};

// Full-Jacobian check of every input of f.
GradcheckResult gradcheck(const VarFunction64& f, const std::vector<Tensor64>& inputs,
                          const GradcheckOptions& options = {});

// Second derivatives. For f and a random cotangent u (shaped like f's output, drawn from
// `seed`), the function
//   h(x_1..x_k, u) = (grad(f(x), x_1, u), ..., grad(f(x), x_k, u))   (autograd/grad.hpp)
// is checked like gradcheck checks f: its analytic Jacobian (reverse passes through the graph
// grad(..., create_graph = true) recorded, one per element of h) against central differences
// of the first-order backward (grad with create_graph = false, which runs the ops' tensor
// closures), with respect to every x_k and to u. Also checks that the VJP values of the two
// backwards agree. Every op that claims second derivatives passes it
// (tests/autograd/test_double_backward.cpp).
struct GradgradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
  std::uint64_t seed = 1;  // of the cotangent u (standard normal)
};

GradcheckResult gradgradcheck(const VarFunction64& f, const std::vector<Tensor64>& inputs,
                              const GradgradcheckOptions& options = {});

// The Jacobian d f(x) / d x (rows: output elements, columns: input elements) by central
// differences, for functions on plain tensors. Also used by the bijector log-det checks.
Tensor64 numeric_jacobian(const std::function<Tensor64(const Tensor64&)>& f, const Tensor64& x,
                          double eps = 1e-6);

}  // namespace fz
