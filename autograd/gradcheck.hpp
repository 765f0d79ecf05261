// autograd/gradcheck.hpp — the project's ground truth: compare backward() against a full
// Jacobian computed by central differences, in float64.
//
// For f: (x_1..x_k) -> y, the analytic Jacobian row i comes from one reverse pass seeded with
// the unit vector e_i; the numeric column j of input k is (f(x + eps e_j) - f(x - eps e_j)) / 2eps.
// Every entry must satisfy |analytic - numeric| <= atol + rtol * |numeric|.
#pragma once

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

// The Jacobian d f(x) / d x (rows: output elements, columns: input elements) by central
// differences, for functions on plain tensors. Also used by the bijector log-det checks.
Tensor64 numeric_jacobian(const std::function<Tensor64(const Tensor64&)>& f, const Tensor64& x,
                          double eps = 1e-6);

}  // namespace fz
