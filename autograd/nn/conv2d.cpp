// autograd/nn/conv2d.cpp — Conv2d's parameters, initialisation, weight normalisation and
// forward, all through differentiable ops (so gradients of g, v, bias and logs come from
// the ops' backward closures).
#include "autograd/nn/conv2d.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/nn/init.hpp"
#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

template <typename T>
Var<T> weight_norm(const Var<T>& v, const Var<T>& g) {
  if (v.dim() < 2 || g.dim() != v.dim() || g.shape()[0] != v.shape()[0] ||
      g.numel() != v.shape()[0])
    throw std::invalid_argument("weight_norm: v of shape " + shape_str(v.shape()) +
                                " needs g of shape (out, 1, ...), got " + shape_str(g.shape()));
  std::vector<int> axes;
  for (std::size_t a = 1; a < v.dim(); ++a) axes.push_back(static_cast<int>(a));
  // w = v * (g / ||v||); d/dv and d/dg follow from the ops (square, sum, sqrt, div, mul).
  const Var<T> norm = sqrt(sum(square(v), axes, true));
  return v * (g / norm);
}

template <typename T>
Conv2d<T>::Conv2d(std::size_t in_channels, std::size_t out_channels, Rng& rng,
                  const Conv2dOptions& options)
    : in_(in_channels), out_(out_channels), options_(options) {
  if (in_channels == 0 || out_channels == 0 || options.kernel_size == 0 || options.stride == 0)
    throw std::invalid_argument("Conv2d: channels, kernel_size and stride must be > 0 (in " +
                                std::to_string(in_channels) + ", out " +
                                std::to_string(out_channels) + ", kernel " +
                                std::to_string(options.kernel_size) + ", stride " +
                                std::to_string(options.stride) + ")");
  if (!(options.output_log_scale >= 0.0))
    throw std::invalid_argument("Conv2d: output_log_scale must be >= 0");
  const std::size_t k = options.kernel_size;
  Tensor<T> w(Shape{out_channels, in_channels, k, k});
  Tensor<T> b(Shape{out_channels});
  const bool zeros = options.init == Conv2dInit::Zeros;
  switch (options.init) {
    case Conv2dInit::Default: {
      init::kaiming_uniform(w, rng, std::sqrt(5.0));
      const double bound = 1.0 / std::sqrt(static_cast<double>(in_channels * k * k));
      if (options.bias) init::uniform(b, rng, -bound, bound);
      break;
    }
    case Conv2dInit::XavierUniform:
      init::xavier_uniform(w, rng);
      break;
    case Conv2dInit::Normal:
      init::normal(w, rng, 0.0, options.init_std);
      break;
    case Conv2dInit::Zeros:
      // With weight norm, v needs a direction (its norm divides); g = 0 zeroes the output.
      if (options.weight_norm) init::kaiming_uniform(w, rng, std::sqrt(5.0));
      break;
  }
  if (options.weight_norm) {
    Tensor<T> g(Shape{out_channels, 1, 1, 1});
    const std::size_t per = in_channels * k * k;
    for (std::size_t o = 0; o < out_channels && !zeros; ++o) {
      double s = 0.0;
      for (std::size_t j = 0; j < per; ++j) s += static_cast<double>(w[o * per + j]) * w[o * per + j];
      g[o] = static_cast<T>(std::sqrt(s));
    }
    params_.push_back(this->register_parameter("weight_g", std::move(g)));
    params_.push_back(this->register_parameter("weight_v", std::move(w)));
  } else {
    params_.push_back(this->register_parameter("weight", std::move(w)));
  }
  if (options.bias) params_.push_back(this->register_parameter("bias", std::move(b)));
  if (options.output_log_scale > 0.0)
    params_.push_back(this->register_parameter("logs", Tensor<T>(Shape{out_channels})));
}

template <typename T>
Var<T> Conv2d<T>::effective_weight(const std::vector<Var<T>>& params) const {
  return options_.weight_norm ? weight_norm(params[1], params[0]) : params[0];
}

template <typename T>
Var<T> Conv2d<T>::weight() const {
  return effective_weight(params_);
}

template <typename T>
Var<T> Conv2d<T>::compute(const Var<T>& x, const std::vector<Var<T>>& params) const {
  if (x.dim() != 4 || x.shape()[1] != in_)
    throw std::invalid_argument("Conv2d: expected input (N, " + std::to_string(in_) +
                                ", H, W), got " + shape_str(x.shape()));
  std::size_t next = options_.weight_norm ? 2 : 1;
  const Var<T> w = effective_weight(params);
  const Var<T> b = options_.bias ? params[next++] : Var<T>();
  Var<T> y = conv2d(x, w, b, options_.stride, options_.padding);
  if (options_.output_log_scale > 0.0) {
    // y * exp(logs * factor), logs broadcast over (N, ., H, W).
    const Var<T> logs = reshape(params[next], Shape{1, out_, 1, 1});
    y = y * exp(logs * static_cast<T>(options_.output_log_scale));
  }
  return y;
}

template <typename T>
Var<T> Conv2d<T>::forward_with(const Var<T>& x, const std::vector<Var<T>>& params) const {
  const std::size_t expected = (options_.weight_norm ? 2 : 1) + (options_.bias ? 1 : 0) +
                               (options_.output_log_scale > 0.0 ? 1 : 0);
  if (params.size() != expected)
    throw std::invalid_argument("Conv2d::forward_with: expected " + std::to_string(expected) +
                                " parameters, got " + std::to_string(params.size()));
  const std::vector<Var<T>>& own = params_;
  for (std::size_t i = 0; i < expected; ++i)
    if (params[i].shape() != own[i].shape())
      throw std::invalid_argument("Conv2d::forward_with: parameter " + std::to_string(i) +
                                  " has shape " + shape_str(params[i].shape()) + ", expected " +
                                  shape_str(own[i].shape()));
  return compute(x, params);
}

template <typename T>
Var<T> Conv2d<T>::forward(const Var<T>& x) {
  return compute(x, params_);
}

template Var<float> weight_norm<float>(const Var<float>&, const Var<float>&);
template Var<double> weight_norm<double>(const Var<double>&, const Var<double>&);
template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace fz
