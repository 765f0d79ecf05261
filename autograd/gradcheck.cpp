// autograd/gradcheck.cpp — analytic (reverse pass per output element) vs numeric Jacobians.
#include "autograd/gradcheck.hpp"

#include <cmath>
#include <sstream>

namespace fz {

namespace {

std::vector<Var64> make_leaves(const std::vector<Tensor64>& inputs) {
  std::vector<Var64> vars;
  vars.reserve(inputs.size());
  for (const Tensor64& x : inputs) vars.emplace_back(x.clone(), true);
  return vars;
}

Tensor64 evaluate(const VarFunction64& f, const std::vector<Tensor64>& inputs) {
  NoGradGuard no_grad;
  std::vector<Var64> vars;
  for (const Tensor64& x : inputs) vars.emplace_back(x, false);
  return f(vars).value().clone();
}

}  // namespace

GradcheckResult gradcheck(const VarFunction64& f, const std::vector<Tensor64>& inputs,
                          const GradcheckOptions& options) {
  GradcheckResult result;
  const Tensor64 y0 = evaluate(f, inputs);
  const std::size_t n_out = y0.numel();

  // analytic[k] is an (n_out x numel(x_k)) Jacobian, filled one reverse pass per output.
  std::vector<std::vector<double>> analytic(inputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k) analytic[k].assign(n_out * inputs[k].numel(), 0.0);
  for (std::size_t i = 0; i < n_out; ++i) {
    std::vector<Var64> vars = make_leaves(inputs);
    Var64 y = f(vars);
    if (!y.requires_grad()) break;  // f does not depend on its inputs at all: all zeros
    Tensor64 seed(y.shape(), 0.0);
    seed[i] = 1.0;
    y.backward(seed);
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const Tensor64& g = vars[k].grad();
      if (!g.defined()) continue;
      for (std::size_t j = 0; j < g.numel(); ++j) analytic[k][i * g.numel() + j] = g[j];
    }
  }

  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::size_t n_in = inputs[k].numel();
    for (std::size_t j = 0; j < n_in; ++j) {
      std::vector<Tensor64> plus = inputs, minus = inputs;
      plus[k] = inputs[k].clone();
      minus[k] = inputs[k].clone();
      plus[k][j] += options.eps;
      minus[k][j] -= options.eps;
      const Tensor64 yp = evaluate(f, plus);
      const Tensor64 ym = evaluate(f, minus);
      for (std::size_t i = 0; i < n_out; ++i) {
        const double numeric = (yp[i] - ym[i]) / (2.0 * options.eps);
        const double a = analytic[k][i * n_in + j];
        const double err = std::abs(a - numeric);
        ++result.entries_checked;
        const bool bad = !(err <= options.atol + options.rtol * std::abs(numeric));
        if (std::isnan(err) || err > result.max_abs_error) result.max_abs_error = err;
        if (bad && result.ok) {
          result.ok = false;
          std::ostringstream msg;
          msg << "gradcheck: d output[" << i << "] / d input" << k << "[" << j
              << "]: analytic " << a << " vs numeric " << numeric << " (input shape "
              << shape_str(inputs[k].shape()) << ", output shape " << shape_str(y0.shape())
              << ")";
          result.message = msg.str();
        }
      }
    }
  }
  return result;
}

Tensor64 numeric_jacobian(const std::function<Tensor64(const Tensor64&)>& f, const Tensor64& x,
                          double eps) {
  const std::size_t n_out = f(x).numel();
  const std::size_t n_in = x.numel();
  Tensor64 jac({n_out, n_in});
  for (std::size_t j = 0; j < n_in; ++j) {
    Tensor64 xp = x.clone(), xm = x.clone();
    xp[j] += eps;
    xm[j] -= eps;
    const Tensor64 yp = f(xp), ym = f(xm);
    for (std::size_t i = 0; i < n_out; ++i) jac[i * n_in + j] = (yp[i] - ym[i]) / (2.0 * eps);
  }
  return jac;
}

}  // namespace fz
