// autograd/ops_rational_quadratic_spline.hpp — the monotone rational-quadratic spline of
// Durkan et al. 2019 ("Neural Spline Flows") as one fused differentiable op, elementwise, with
// identity tails.
//
// Each element x (of x: (B, k, rest...)) has its own spline, given by 3K - 1 unconstrained
// numbers theta in params: (B, (3K - 1) k, rest...), blocked layout: number p of channel j sits
// at channel p * k + j of axis 1 (p in [0, K): widths, [K, 2K): heights, [2K, 3K - 1): the
// derivatives at the K - 1 interior knots). From theta:
//   bin widths   w_i = min_bin_width  + (1 - K min_bin_width)  softmax(theta_w)_i,   i < K
//   bin heights  h_i = min_bin_height + (1 - K min_bin_height) softmax(theta_h)_i
//   x-knots      X_0 = -B, X_i = -B + 2B (w_0 + ... + w_{i-1}), X_K = B (exactly)
//   y-knots      Y_i likewise from h
//   derivatives  d_0 = d_K = 1,  d_i = min_derivative + softplus(theta_d_{i-1}),  0 < i < K
// The boundary derivatives 1 make the spline join the identity tails smoothly: outside
// [-B, B] the map is y = x with log-derivative 0 and no gradient to theta.
//
// Forward (data -> latent, options.inverse = false), for x in bin k (X_k <= x <= X_{k+1}):
//   W = X_{k+1} - X_k, H = Y_{k+1} - Y_k, s = H / W, xi = (x - X_k) / W, t = xi (1 - xi)
//   y = Y_k + H (s xi^2 + d_k t) / (s + (d_k + d_{k+1} - 2s) t)
//   dy/dx = s^2 (d_{k+1} xi^2 + 2 s t + d_k (1 - xi)^2) / (s + (d_k + d_{k+1} - 2s) t)^2
// Inverse (options.inverse = true): the bin is found on the y-knots, and xi is the root in
// [0, 1] of a xi^2 + b xi + c = 0 (a, b, c in the .cpp), taken as 2c / (-b - sqrt(b^2 - 4ac)),
// which does not cancel catastrophically; its log-derivative is minus forward's at the root.
//
// Both directions return {value, per-element log-derivative}, each shaped like x, and both
// are differentiable with respect to the input and to params (the inverse through the
// implicit function theorem: dx/dy = 1 / (dy/dx), dx/dtheta = -(dy/dtheta) / (dy/dx)).
// Each element is computed in double, also for float tensors. docs/rational-quadratic-spline.md
// has the derivation, the numerics and the cost.
// rational_quadratic_spline_reference computes the same from primitive ops (softmax, cumsum,
// pad, where, searchsorted, gather, elementwise arithmetic), about 50 of them on the tape: the
// plain form to check the fused op against, and to read the construction off step by step.
#pragma once

#include <cstddef>

#include "var.hpp"

namespace fz {

struct RationalQuadraticSplineOptions {
  std::size_t bins = 8;           // K >= 2
  double tail_bound = 3.0;        // B > 0: the spline acts on [-B, B], identity outside
  double min_bin_width = 1e-3;    // > 0, with K * min_bin_width < 1
  double min_bin_height = 1e-3;   // > 0, with K * min_bin_height < 1
  double min_derivative = 1e-3;   // > 0
  bool inverse = false;           // false: y = spline(x); true: x = spline^{-1}(y)
};

// The map's value and its log-derivative log(d value / d input), both shaped like the input.
template <typename T>
struct RationalQuadraticSplineOutput {
  Var<T> value;
  Var<T> log_derivative;
};

// The spline applied elementwise to `x` with parameters `params` (layout above). Throws
// std::invalid_argument for shapes that do not fit or options outside the ranges above.
//
// Recorded as two tape nodes sharing one backward pass: "rational_quadratic_spline" (value)
// and "rational_quadratic_spline_log_derivative" ("..._inverse" and
// "..._inverse_log_derivative" for the inverse). When both outputs receive gradients, the
// log-derivative's node (run first in the reverse pass) hands its incoming gradient to the
// value's node, which computes the gradients of x and params for both in one sweep; when only
// one output is used, its node does the work alone.
template <typename T>
RationalQuadraticSplineOutput<T> rational_quadratic_spline(
    const Var<T>& x, const Var<T>& params, const RationalQuadraticSplineOptions& options = {});

// The same spline composed only of primitive differentiable ops; equal to
// rational_quadratic_spline in values and gradients (to rounding), far slower. For tests and
// for reading, and what rational_quadratic_spline runs under reference_ops()
// (tensor/reference_mode.hpp). Same arguments, same errors.
template <typename T>
RationalQuadraticSplineOutput<T> rational_quadratic_spline_reference(
    const Var<T>& x, const Var<T>& params, const RationalQuadraticSplineOptions& options = {});

// Throws std::invalid_argument naming the first option out of range ("rational_quadratic_spline:
// ..."). Used by the op and by the spline transformer's constructor.
void check_rational_quadratic_spline_options(const RationalQuadraticSplineOptions& options);

}  // namespace fz
