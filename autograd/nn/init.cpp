// autograd/nn/init.cpp — initialiser formulas (see init.hpp).
#include "autograd/nn/init.hpp"

#include <cmath>
#include <stdexcept>

#include "tensor/linalg.hpp"

namespace fz {
namespace init {

Fans compute_fans(const Shape& shape) {
  if (shape.size() < 2)
    throw std::invalid_argument("init: fan in/out needs a tensor with at least 2 axes, got " +
                                shape_str(shape));
  std::size_t receptive = 1;
  for (std::size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return Fans{shape[1] * receptive, shape[0] * receptive};
}

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Sigmoid:
      return 1.0;
    case Nonlinearity::Tanh:
      return 5.0 / 3.0;
    case Nonlinearity::ReLU:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU:
      return std::sqrt(2.0 / (1.0 + param * param));
  }
  return 1.0;
}

template <typename T>
void zeros(Tensor<T>& t) {
  t.fill(T(0));
}

template <typename T>
void ones(Tensor<T>& t) {
  t.fill(T(1));
}

template <typename T>
void constant(Tensor<T>& t, double value) {
  t.fill(static_cast<T>(value));
}

template <typename T>
void uniform(Tensor<T>& t, Rng& rng, double lo, double hi) {
  if (lo == hi) return t.fill(static_cast<T>(lo));  // a degenerate range (e.g. a zero bound)
  if (!(lo < hi))
    throw std::invalid_argument("init::uniform: need lo <= hi, got " + std::to_string(lo) +
                                " and " + std::to_string(hi));
  rng.fill_uniform(t, static_cast<T>(lo), static_cast<T>(hi));
}

template <typename T>
void normal(Tensor<T>& t, Rng& rng, double mean, double sd) {
  if (!(sd >= 0.0)) throw std::invalid_argument("init::normal: sd must be >= 0");
  rng.fill_normal(t, static_cast<T>(mean), static_cast<T>(sd));
}

template <typename T>
void xavier_uniform(Tensor<T>& t, Rng& rng, double gain) {
  const Fans f = compute_fans(t.shape());
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(f.fan_in + f.fan_out));
  uniform(t, rng, -bound, bound);
}

template <typename T>
void xavier_normal(Tensor<T>& t, Rng& rng, double gain) {
  const Fans f = compute_fans(t.shape());
  normal(t, rng, 0.0, gain * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out)));
}

namespace {
double kaiming_std(const Shape& shape, double a, FanMode mode, Nonlinearity nonlinearity) {
  const Fans f = compute_fans(shape);
  const std::size_t fan = mode == FanMode::FanIn ? f.fan_in : f.fan_out;
  if (fan == 0) throw std::invalid_argument("init::kaiming: zero fan for shape " + shape_str(shape));
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace

template <typename T>
void kaiming_uniform(Tensor<T>& t, Rng& rng, double a, FanMode mode, Nonlinearity nonlinearity) {
  const double bound = std::sqrt(3.0) * kaiming_std(t.shape(), a, mode, nonlinearity);
  uniform(t, rng, -bound, bound);
}

template <typename T>
void kaiming_normal(Tensor<T>& t, Rng& rng, double a, FanMode mode, Nonlinearity nonlinearity) {
  normal(t, rng, 0.0, kaiming_std(t.shape(), a, mode, nonlinearity));
}

template <typename T>
void orthogonal(Tensor<T>& t, Rng& rng, double gain) {
  if (t.dim() < 2)
    throw std::invalid_argument("init::orthogonal: needs at least 2 axes, got " +
                                shape_str(t.shape()));
  const std::size_t rows = t.shape()[0];
  const std::size_t cols = rows ? t.numel() / rows : 0;
  if (rows == 0 || cols == 0) return;
  const Tensor<T> q = random_orthogonal<T>(rows, cols, rng);
  const T g = static_cast<T>(gain);
  for (std::size_t i = 0; i < t.numel(); ++i) t[i] = g * q[i];
}

#define FZ_INSTANTIATE_INIT(T)                                                              \
  template void zeros<T>(Tensor<T>&);                                                      \
  template void ones<T>(Tensor<T>&);                                                       \
  template void constant<T>(Tensor<T>&, double);                                           \
  template void uniform<T>(Tensor<T>&, Rng&, double, double);                              \
  template void normal<T>(Tensor<T>&, Rng&, double, double);                               \
  template void xavier_uniform<T>(Tensor<T>&, Rng&, double);                               \
  template void xavier_normal<T>(Tensor<T>&, Rng&, double);                                \
  template void kaiming_uniform<T>(Tensor<T>&, Rng&, double, FanMode, Nonlinearity);       \
  template void kaiming_normal<T>(Tensor<T>&, Rng&, double, FanMode, Nonlinearity);        \
  template void orthogonal<T>(Tensor<T>&, Rng&, double);
FZ_INSTANTIATE_INIT(float)
FZ_INSTANTIATE_INIT(double)
#undef FZ_INSTANTIATE_INIT

}  // namespace init
}  // namespace fz
