// flows/image_likelihood.cpp — dequantization and the bits/dim conversion.
#include "flows/image_likelihood.hpp"

#include <algorithm>
#include <cmath>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

template <typename T>
Tensor<T> dequantize(const TensorU8& pixels, Rng& rng, int bits) {
  const double levels = std::ldexp(1.0, bits);
  Tensor<T> x = rng.uniform<T>(pixels.shape(), T(0), T(1));
  const std::uint8_t* p = pixels.data();
  T* out = x.data();
  for (std::size_t i = 0; i < x.numel(); ++i) {
    // Summed in double and kept strictly inside the pixel's bin [p, p + 1) / levels: in float,
    // 255 + 0.99999994 rounds to 256, which would put x on 1.0 (infinite logit).
    const T upper = static_cast<T>((p[i] + 1.0) / levels);
    const T v = static_cast<T>((p[i] + static_cast<double>(out[i])) / levels);
    out[i] = v < upper ? v : std::nextafter(upper, T(0));
  }
  return x;
}

template <typename T>
Tensor<T> pixels_to_unit(const TensorU8& pixels, int bits) {
  const double levels = std::ldexp(1.0, bits);
  Tensor<T> x = Tensor<T>::empty(pixels.shape());
  for (std::size_t i = 0; i < x.numel(); ++i) x[i] = static_cast<T>((pixels[i] + 0.5) / levels);
  return x;
}

template <typename T>
TensorU8 unit_to_pixels(const Tensor<T>& x, int bits) {
  const double levels = std::ldexp(1.0, bits);
  TensorU8 out = TensorU8::empty(x.shape());
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const double v = std::floor(static_cast<double>(x[i]) * levels);
    out[i] = static_cast<std::uint8_t>(std::clamp(std::isfinite(v) ? v : 0.0, 0.0, levels - 1));
  }
  return out;
}

template <typename T>
Var<T> bits_per_dim(const Var<T>& log_prob, std::size_t dims, int bits) {
  const double d = static_cast<double>(dims);
  const double offset = d * bits * std::log(2.0);  // D ln 2^bits
  // mean over the batch of -(log p - offset) / (D ln 2)
  return (mean(log_prob) - T(offset)) * T(-1.0 / (d * std::log(2.0)));
}

double bits_per_dim(double log_prob_nats, std::size_t dims, int bits) {
  const double d = static_cast<double>(dims);
  return -(log_prob_nats - d * bits * std::log(2.0)) / (d * std::log(2.0));
}

#define FZ_INSTANTIATE(T)                                                       \
  template Tensor<T> dequantize<T>(const TensorU8&, Rng&, int);                 \
  template Tensor<T> pixels_to_unit<T>(const TensorU8&, int);                   \
  template TensorU8 unit_to_pixels<T>(const Tensor<T>&, int);                   \
  template Var<T> bits_per_dim<T>(const Var<T>&, std::size_t, int);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
