// autograd/ops_softmax.cpp — forward and backward of softmax and log_softmax along one axis.
//
// Both forwards share one pass per line (the elements along `axis` for a fixed position of the
// other axes): m = max, lse = m + log(sum exp(x - m)), then x - lse or exp(x - lse). Sums are
// accumulated in double so a float line of thousands of elements keeps its precision.
#include "autograd/ops_softmax.hpp"

#include <cmath>
#include <limits>
#include <utility>

#include "autograd/axis_lines.hpp"

namespace fz {

namespace {

// Writes log_softmax(x) along the lines of `l` into `out` (same shape as x).
template <typename T>
void log_softmax_lines(const Tensor<T>& x, const detail::AxisLines& l, Tensor<T>& out) {
  const T* xv = x.data();
  T* ov = out.data();
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t i = 0; i < l.inner; ++i) {
      T m = -std::numeric_limits<T>::infinity();
      bool nan = false;
      for (std::size_t j = 0; j < l.n; ++j) {
        const T v = xv[l.at(o, j, i)];
        if (std::isnan(v)) nan = true;
        if (v > m) m = v;
      }
      if (nan || m == -std::numeric_limits<T>::infinity() || m == std::numeric_limits<T>::infinity()) {
        // All -inf: every log-probability is -inf. NaN or +inf anywhere: undefined, NaN.
        const T fill = nan || m > 0 ? std::numeric_limits<T>::quiet_NaN() : m;
        for (std::size_t j = 0; j < l.n; ++j) ov[l.at(o, j, i)] = fill;
        continue;
      }
      double s = 0.0;
      for (std::size_t j = 0; j < l.n; ++j) s += std::exp(static_cast<double>(xv[l.at(o, j, i)] - m));
      const double lse = static_cast<double>(m) + std::log(s);
      for (std::size_t j = 0; j < l.n; ++j)
        ov[l.at(o, j, i)] = static_cast<T>(static_cast<double>(xv[l.at(o, j, i)]) - lse);
    }
}

}  // namespace

template <typename T>
Var<T> log_softmax(const Var<T>& x, int axis) {
  const detail::AxisLines l = detail::axis_lines(x.shape(), axis, "log_softmax");
  Tensor<T> y = Tensor<T>::empty(x.shape());
  log_softmax_lines(x.value(), l, y);
  // d ls_j / dx_k = [j = k] - p_k with p = softmax(x) = exp(ls):
  // dx_k = g_k - p_k * sum_j g_j.
  return record_op("log_softmax", y, {x}, [x, y, l](const Tensor<T>& g) {
    if (!x.requires_grad()) return;
    Tensor<T> dx = Tensor<T>::empty(x.shape());
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t i = 0; i < l.inner; ++i) {
        double gsum = 0.0;
        for (std::size_t j = 0; j < l.n; ++j) gsum += static_cast<double>(g[l.at(o, j, i)]);
        for (std::size_t j = 0; j < l.n; ++j) {
          const std::size_t e = l.at(o, j, i);
          dx[e] = static_cast<T>(static_cast<double>(g[e]) - std::exp(static_cast<double>(y[e])) * gsum);
        }
      }
    x.accumulate_grad(std::move(dx));
  });
}

template <typename T>
Var<T> softmax(const Var<T>& x, int axis) {
  const detail::AxisLines l = detail::axis_lines(x.shape(), axis, "softmax");
  Tensor<T> y = Tensor<T>::empty(x.shape());
  log_softmax_lines(x.value(), l, y);
  for (T& v : y) v = std::exp(v);  // exp(-inf) = 0 for an all -inf line
  // d p_j / dx_k = p_j ([j = k] - p_k): dx_k = p_k (g_k - sum_j g_j p_j).
  return record_op("softmax", y, {x}, [x, y, l](const Tensor<T>& g) {
    if (!x.requires_grad()) return;
    Tensor<T> dx = Tensor<T>::empty(x.shape());
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t i = 0; i < l.inner; ++i) {
        double dot = 0.0;
        for (std::size_t j = 0; j < l.n; ++j) {
          const std::size_t e = l.at(o, j, i);
          dot += static_cast<double>(g[e]) * static_cast<double>(y[e]);
        }
        for (std::size_t j = 0; j < l.n; ++j) {
          const std::size_t e = l.at(o, j, i);
          dx[e] = static_cast<T>(static_cast<double>(y[e]) * (static_cast<double>(g[e]) - dot));
        }
      }
    x.accumulate_grad(std::move(dx));
  });
}

#define FZ_INSTANTIATE_OPS_SOFTMAX(T)             \
  template Var<T> softmax(const Var<T>&, int);    \
  template Var<T> log_softmax(const Var<T>&, int);

FZ_INSTANTIATE_OPS_SOFTMAX(float)
FZ_INSTANTIATE_OPS_SOFTMAX(double)

#undef FZ_INSTANTIATE_OPS_SOFTMAX

}  // namespace fz
