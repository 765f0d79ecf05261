// autograd/nn/init.hpp — weight initialisers, writing in place into a parameter's tensor
// (pass var.mutable_value()). Formulas and fan conventions follow torch.nn.init:
//
//   fans of a (out, in) matrix: fan_in = in, fan_out = out; of a (out, in, kh, kw) conv
//   kernel: fan_in = in*kh*kw, fan_out = out*kh*kw.
//   xavier_uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))
//   xavier_normal:  N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))
//   kaiming_uniform: U(-b, b), b = sqrt(3) * gain / sqrt(fan)     (fan = fan_in or fan_out)
//   kaiming_normal:  N(0, s^2), s = gain / sqrt(fan)
//   orthogonal: the tensor viewed as (shape[0], rest) gets orthonormal rows (or columns if
//               it is tall), times gain — a Haar-random orthogonal matrix when square.
//
// Every initialiser draws from the Rng it is given: there is no hidden global generator.
#pragma once

#include <cstddef>

#include "../../tensor/random.hpp"
#include "../../tensor/tensor.hpp"

namespace fz {
namespace init {

enum class Nonlinearity { Linear, Sigmoid, Tanh, ReLU, LeakyReLU };
enum class FanMode { FanIn, FanOut };

struct Fans {
  std::size_t fan_in = 0;
  std::size_t fan_out = 0;
};

// Throws std::invalid_argument for tensors with fewer than 2 axes.
Fans compute_fans(const Shape& shape);

// torch.nn.init.calculate_gain: 1 (linear, sigmoid), 5/3 (tanh), sqrt(2) (relu),
// sqrt(2 / (1 + slope^2)) (leaky relu with negative slope `param`).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

template <typename T> void zeros(Tensor<T>& t);
template <typename T> void ones(Tensor<T>& t);
template <typename T> void constant(Tensor<T>& t, double value);
template <typename T> void uniform(Tensor<T>& t, Rng& rng, double lo = 0.0, double hi = 1.0);
template <typename T> void normal(Tensor<T>& t, Rng& rng, double mean = 0.0, double sd = 1.0);

template <typename T> void xavier_uniform(Tensor<T>& t, Rng& rng, double gain = 1.0);
template <typename T> void xavier_normal(Tensor<T>& t, Rng& rng, double gain = 1.0);

// `a` is the negative slope used by the LeakyReLU gain (ignored for other nonlinearities).
// PyTorch's default Linear/Conv2d init is kaiming_uniform(w, rng, sqrt(5)).
template <typename T>
void kaiming_uniform(Tensor<T>& t, Rng& rng, double a = 0.0, FanMode mode = FanMode::FanIn,
                     Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
template <typename T>
void kaiming_normal(Tensor<T>& t, Rng& rng, double a = 0.0, FanMode mode = FanMode::FanIn,
                    Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);

// Throws std::invalid_argument for tensors with fewer than 2 axes.
template <typename T> void orthogonal(Tensor<T>& t, Rng& rng, double gain = 1.0);

}  // namespace init
}  // namespace fz
