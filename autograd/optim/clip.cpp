// autograd/optim/clip.cpp — gradient norms and clipping.
//
// Gradients are written in place: a leaf's gradient buffer is owned by the leaf
// (Var::accumulate_grad adopts only unshared tensors), and Tensor copies share storage.
#include "autograd/optim/clip.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace fz {

namespace {

// Sum of squares in double with several partial sums (breaks the serial dependency chain;
// the order is fixed, so the result is deterministic).
template <typename T>
double sum_of_squares(const Tensor<T>& g) {
  constexpr std::size_t L = 8;
  double acc[L] = {};
  const T* d = g.data();
  const std::size_t n = g.numel();
  std::size_t k = 0;
  for (; k + L <= n; k += L)
    for (std::size_t j = 0; j < L; ++j) {
      const double x = static_cast<double>(d[k + j]);
      acc[j] += x * x;
    }
  for (; k < n; ++k) acc[0] += static_cast<double>(d[k]) * static_cast<double>(d[k]);
  double s = 0.0;
  for (double a : acc) s += a;
  return s;
}

}  // namespace

template <typename T>
double grad_norm(const std::vector<Var<T>>& params) {
  double total = 0.0;
  for (const Var<T>& p : params)
    if (p.defined() && p.grad().defined()) total += sum_of_squares(p.grad());
  return std::sqrt(total);
}

template <typename T>
bool grads_finite(const std::vector<Var<T>>& params) {
  for (const Var<T>& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    for (T v : p.grad())
      if (!std::isfinite(v)) return false;
  }
  return true;
}

template <typename T>
double clip_grad_norm(const std::vector<Var<T>>& params, double max_norm, bool error_if_nonfinite) {
  if (!(max_norm >= 0.0))
    throw std::invalid_argument("clip_grad_norm: max_norm must be >= 0, got " +
                                std::to_string(max_norm));
  const double total = grad_norm(params);
  if (!std::isfinite(total)) {
    if (error_if_nonfinite)
      throw std::runtime_error("clip_grad_norm: the total gradient norm is " +
                               std::to_string(total) + " (NaN or infinite gradients)");
    return total;
  }
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    const T c = static_cast<T>(coef);
    for (const Var<T>& p : params) {
      if (!p.defined() || !p.grad().defined()) continue;
      Tensor<T> g = p.grad();  // shares the leaf's gradient buffer
      for (T& v : g) v *= c;
    }
  }
  return total;
}

template <typename T>
void clip_grad_value(const std::vector<Var<T>>& params, double clip_value) {
  if (!(clip_value >= 0.0))
    throw std::invalid_argument("clip_grad_value: clip_value must be >= 0, got " +
                                std::to_string(clip_value));
  const T c = static_cast<T>(clip_value);
  for (const Var<T>& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor<T> g = p.grad();
    for (T& v : g) v = std::min(std::max(v, -c), c);
  }
}

template double clip_grad_norm<float>(const std::vector<Var<float>>&, double, bool);
template double clip_grad_norm<double>(const std::vector<Var<double>>&, double, bool);
template double grad_norm<float>(const std::vector<Var<float>>&);
template double grad_norm<double>(const std::vector<Var<double>>&);
template bool grads_finite<float>(const std::vector<Var<float>>&);
template bool grads_finite<double>(const std::vector<Var<double>>&);
template void clip_grad_value<float>(const std::vector<Var<float>>&, double);
template void clip_grad_value<double>(const std::vector<Var<double>>&, double);

}  // namespace fz
