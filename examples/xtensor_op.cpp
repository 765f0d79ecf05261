// examples/xtensor_op.cpp — a differentiable op written by a user in xtensor expressions.
//
// softsign(x) = x / (1 + |x|), with derivative d/dx softsign(x) = 1 / (1 + |x|)^2, is not in
// the library. It is written here the way the README's "Writing an op" shows: the forward
// value and the backward rule are each one xtensor expression over zero-copy views of the
// tensors (xview, tensor/xtensor_view.hpp), evaluated into a fresh Tensor; record_op
// (autograd/var.hpp) puts the backward closure on the tape. Then gradcheck
// (autograd/gradcheck.hpp) compares the tape's gradients against central differences in
// float64 — alone, and inside a composition with library ops and broadcasting — and the
// program prints the largest error and exits non-zero if a check fails.
//
//   build/examples/xtensor_op
#include <cmath>
#include <cstdio>
#include <vector>

#include <xtensor/xmath.hpp>

#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "autograd/var.hpp"
#include "tensor/random.hpp"
#include "tensor/xtensor_view.hpp"

using namespace fz;

template <typename T>
Var<T> softsign(const Var<T>& x) {
  const auto xv = xview(x.value());
  Tensor<T> y(xv / (T(1) + xt::abs(xv)));  // forward: y = x / (1 + |x|)
  return record_op("softsign", y, {x}, [x](const Tensor<T>& g) {
    // backward: dL/dx = g / (1 + |x|)^2 (x's value is kept alive by the captured Var)
    const auto xv = xview(x.value());
    x.accumulate_grad(Tensor<T>(xview(g) / xt::square(T(1) + xt::abs(xv))));
  });
}

int main() {
  Rng rng(7);
  bool all_ok = true;
  const auto report = [&](const char* what, const GradcheckResult& r) {
    std::printf("%-44s %4zu Jacobian entries, max |analytic - numeric| = %.3e  %s\n", what,
                r.entries_checked, r.max_abs_error, r.ok ? "ok" : "FAILED");
    if (!r.ok) std::printf("  %s\n", r.message.c_str());
    all_ok = all_ok && r.ok;
  };

  // Values first: the op against the formula, element by element.
  const Tensor64 x = rng.normal<double>({4, 7}, 0.0, 2.0);
  const Tensor64 y = softsign(Var64(x)).value();
  double value_error = 0;
  for (std::size_t i = 0; i < x.numel(); ++i)
    value_error = std::fmax(value_error, std::abs(y[i] - x[i] / (1 + std::abs(x[i]))));
  std::printf("%-44s max |y - x / (1 + |x|)| = %.3e\n", "softsign values (4, 7)", value_error);
  all_ok = all_ok && value_error < 1e-15;

  // The op alone: its Jacobian is diagonal with entries 1 / (1 + |x|)^2.
  report("gradcheck softsign(x), x (4, 7)",
         gradcheck([](const std::vector<Var64>& in) { return softsign(in[0]); }, {x}));

  // Inside a composition: softsign(x * w + b) with w, b of shape (7,) broadcast over rows, so
  // the gradients of w and b are sums over the batch (sum_to in the library's mul/add).
  const Tensor64 w = rng.normal<double>({7}), b = rng.normal<double>({7});
  report("gradcheck softsign(x * w + b), w, b (7,)",
         gradcheck([](const std::vector<Var64>& in) { return softsign(in[0] * in[1] + in[2]); }, {x, w, b}));

  std::printf("%s\n", all_ok ? "all checks passed" : "some check FAILED");
  return all_ok ? 0 : 1;
}
