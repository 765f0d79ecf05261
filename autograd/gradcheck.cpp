// autograd/gradcheck.cpp — analytic (reverse pass per output element) vs numeric Jacobians.
#include "autograd/gradcheck.hpp"

#include <cmath>
#include <functional>
#include <sstream>

#include "autograd/grad.hpp"
#include "tensor/random.hpp"

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

// The comparison both checks share: analytic[p] is the (n_out x numel(points[p])) Jacobian of
// `values` (a flat vector of n_out numbers) with respect to points[p]; each of its columns is
// checked against the central difference of `values` along that element. Every entry counts in
// result (entries_checked, max_abs_error); the first one outside atol + rtol |numeric| sets
// ok = false and the message `describe(i, p, j, analytic, numeric)` writes.
using FlatValues = std::function<std::vector<double>(const std::vector<Tensor64>&)>;
using DescribeEntry = std::function<std::string(std::size_t i, std::size_t p, std::size_t j, double analytic,
                                                double numeric)>;
void compare_with_central_differences(const FlatValues& values, const std::vector<Tensor64>& points,
                                      const std::vector<std::vector<double>>& analytic, std::size_t n_out,
                                      double eps, double atol, double rtol, const DescribeEntry& describe,
                                      GradcheckResult& result) {
  for (std::size_t p = 0; p < points.size(); ++p) {
    const std::size_t n_in = points[p].numel();
    for (std::size_t j = 0; j < n_in; ++j) {
      std::vector<Tensor64> plus = points, minus = points;
      plus[p] = points[p].clone();
      minus[p] = points[p].clone();
      plus[p][j] += eps;
      minus[p][j] -= eps;
      const std::vector<double> at_plus = values(plus), at_minus = values(minus);
      for (std::size_t i = 0; i < n_out; ++i) {
        const double numeric = (at_plus[i] - at_minus[i]) / (2.0 * eps);
        const double a = analytic[p][i * n_in + j];
        const double err = std::abs(a - numeric);
        ++result.entries_checked;
        const bool bad = !(err <= atol + rtol * std::abs(numeric));
        if (std::isnan(err) || err > result.max_abs_error) result.max_abs_error = err;
        if (bad && result.ok) {
          result.ok = false;
          result.message = describe(i, p, j, a, numeric);
        }
      }
    }
  }
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

  const FlatValues values = [&](const std::vector<Tensor64>& points) {
    const Tensor64 y = evaluate(f, points);
    return std::vector<double>(y.data(), y.data() + y.numel());
  };
  const DescribeEntry describe = [&](std::size_t i, std::size_t k, std::size_t j, double a, double numeric) {
    std::ostringstream msg;
    msg << "gradcheck: d output[" << i << "] / d input" << k << "[" << j << "]: analytic " << a
        << " vs numeric " << numeric << " (input shape " << shape_str(inputs[k].shape()) << ", output shape "
        << shape_str(y0.shape()) << ")";
    return msg.str();
  };
  compare_with_central_differences(values, inputs, analytic, n_out, options.eps, options.atol, options.rtol,
                                   describe, result);
  return result;
}

namespace {

// h(x, u): the VJPs of every input, flattened and concatenated, by the first-order backward.
std::vector<double> first_order_vjps(const VarFunction64& f, const std::vector<Tensor64>& inputs,
                                     const Tensor64& u) {
  std::vector<Var64> vars = make_leaves(inputs);
  const Var64 y = f(vars);
  std::vector<double> out;
  const std::vector<Var64> g = grad(std::vector<Var64>{y}, vars, {Var64(u.clone())}, false);
  for (const Var64& gk : g)
    for (std::size_t j = 0; j < gk.numel(); ++j) out.push_back(gk.value()[j]);
  Tape<double>::current().clear();  // when f did not depend on its inputs nothing consumed it
  return out;
}

}  // namespace

GradcheckResult gradgradcheck(const VarFunction64& f, const std::vector<Tensor64>& inputs,
                              const GradgradcheckOptions& options) {
  GradcheckResult result;
  Rng rng(options.seed);
  const Tensor64 u = rng.normal<double>(evaluate(f, inputs).shape());
  // Columns of h's Jacobian: the inputs, then u (index inputs.size()).
  std::vector<Tensor64> points = inputs;
  points.push_back(u);
  std::size_t n_out = 0;
  for (const Tensor64& x : inputs) n_out += x.numel();
  auto where = [&](std::size_t row) {  // "input k[j]" for an element of h
    std::size_t k = 0;
    while (row >= inputs[k].numel()) row -= inputs[k++].numel();
    std::ostringstream s;
    s << "input" << k << "[" << row << "]";
    return s.str();
  };
  auto name = [&](std::size_t p) {
    return p == inputs.size() ? std::string("the cotangent u") : "input" + std::to_string(p);
  };
  const std::vector<double> reference = first_order_vjps(f, inputs, u);

  // analytic[p]: n_out x numel(points[p]), one reverse pass through the recorded backward per
  // element of h.
  std::vector<std::vector<double>> analytic(points.size());
  for (std::size_t p = 0; p < points.size(); ++p) analytic[p].assign(n_out * points[p].numel(), 0.0);
  for (std::size_t i = 0; i < n_out; ++i) {
    std::vector<Var64> leaves = make_leaves(points);
    const Var64 cotangent = leaves.back();
    leaves.pop_back();
    const Var64 y = f(leaves);
    const std::vector<Var64> h = grad(std::vector<Var64>{y}, leaves, {cotangent}, true);
    if (i == 0) {  // the differentiable backward's values are the first-order ones
      std::size_t row = 0;
      for (const Var64& hk : h)
        for (std::size_t j = 0; j < hk.numel(); ++j, ++row) {
          const double a = hk.value()[j], b = reference[row];
          if (!(std::abs(a - b) <= options.atol + options.rtol * std::abs(b)) && result.ok) {
            result.ok = false;
            std::ostringstream msg;
            msg << "gradgradcheck: the VJP of " << where(row) << " is " << a
                << " by the differentiable backward but " << b << " by the first-order one";
            result.message = msg.str();
          }
        }
    }
    std::vector<Var64> seeds;
    std::size_t offset = 0;
    for (const Var64& hk : h) {
      Tensor64 seed(hk.shape(), 0.0);
      if (i >= offset && i < offset + hk.numel()) seed[i - offset] = 1.0;
      offset += hk.numel();
      seeds.emplace_back(seed);
    }
    std::vector<Var64> wrt = leaves;
    wrt.push_back(cotangent);
    const std::vector<Var64> rows = grad(h, wrt, seeds, false);
    for (std::size_t p = 0; p < points.size(); ++p)
      for (std::size_t j = 0; j < points[p].numel(); ++j)
        analytic[p][i * points[p].numel() + j] = rows[p].value()[j];
    Tape<double>::current().clear();  // h may not have needed a pass (e.g. a linear f in x)
  }

  const FlatValues values = [&](std::vector<Tensor64> at) {  // h at (x, u): u is the last point
    const Tensor64 u_at = at.back();
    at.pop_back();
    return first_order_vjps(f, at, u_at);
  };
  const DescribeEntry describe = [&](std::size_t i, std::size_t p, std::size_t j, double a, double numeric) {
    std::ostringstream msg;
    msg << "gradgradcheck: d vjp(" << where(i) << ") / d " << name(p) << "[" << j << "]: analytic " << a
        << " vs numeric " << numeric;
    return msg.str();
  };
  compare_with_central_differences(values, points, analytic, n_out, options.eps, options.atol, options.rtol,
                                   describe, result);
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
