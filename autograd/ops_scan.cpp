// autograd/ops_scan.cpp — forward and backward of cumsum.
#include "autograd/ops_scan.hpp"

#include <utility>

#include "autograd/axis_lines.hpp"

namespace fz {

namespace {

// out = inclusive prefix sums of `in` along the lines of `l`, forwards or from the back.
template <typename T>
Tensor<T> scan_lines(const Tensor<T>& in, const detail::AxisLines& l, bool reverse) {
  Tensor<T> out = Tensor<T>::empty(in.shape());
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t i = 0; i < l.inner; ++i) {
      double acc = 0.0;
      for (std::size_t step = 0; step < l.n; ++step) {
        const std::size_t j = reverse ? l.n - 1 - step : step;
        const std::size_t e = l.at(o, j, i);
        acc += static_cast<double>(in[e]);
        out[e] = static_cast<T>(acc);
      }
    }
  return out;
}

}  // namespace

template <typename T>
Var<T> cumsum(const Var<T>& x, int axis) {
  const detail::AxisLines l = detail::axis_lines(x.shape(), axis, "cumsum");
  // d y_j / d x_k = [k <= j], so dx_k = sum_{j >= k} g_j: the cumsum of g from the back.
  return record_op("cumsum", scan_lines(x.value(), l, false), {x}, [x, l](const Tensor<T>& g) {
    if (!x.requires_grad()) return;
    x.accumulate_grad(scan_lines(g, l, true));
  });
}

template Var<float> cumsum(const Var<float>&, int);
template Var<double> cumsum(const Var<double>&, int);

}  // namespace fz
