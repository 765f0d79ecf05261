// autograd/nn/conv2d.cpp — Conv2d's parameters, initialisation, weight normalisation and
// forward, all through differentiable ops (so gradients of v, g, bias and logscale come from
// the ops' backward closures).
#include "autograd/nn/conv2d.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

template <typename T>
Var<T> weight_norm(const Var<T>& v, const Var<T>& g) {
  if (v.dim() < 2 || g.dim() != 1 || g.shape()[0] != v.shape()[0])
    throw std::invalid_argument("weight_norm: v of shape " + shape_str(v.shape()) +
                                " needs g of shape (out,), got " + shape_str(g.shape()));
  std::vector<int> axes;
  Shape per_channel{v.shape()[0]};
  for (std::size_t a = 1; a < v.dim(); ++a) {
    axes.push_back(static_cast<int>(a));
    per_channel.push_back(1);
  }
  // w = v * (g / ||v||); d/dv and d/dg follow from the ops (square, sum, sqrt, div, mul).
  const Var<T> norm = sqrt(sum(square(v), axes, true));
  return v * (reshape(g, per_channel) / norm);
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
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_channels * k * k));
  const bool zeros = options.init == Conv2dInit::Zeros;
  switch (options.init) {
    case Conv2dInit::Default:
      rng.fill_uniform(w, -bound, bound);
      if (options.bias) rng.fill_uniform(b, -bound, bound);
      break;
    case Conv2dInit::Normal:
      rng.fill_normal(w, T(0), static_cast<T>(options.init_std));
      break;
    case Conv2dInit::Zeros:
      // With weight norm, v needs a direction (its norm divides); g = 0 zeroes the output.
      if (options.weight_norm) rng.fill_uniform(w, -bound, bound);
      break;
  }
  if (options.weight_norm) {
    // g = ||v|| per output channel (summed in T, as checkpoints were initialised), 0 for Zeros.
    Tensor<T> g(Shape{out_channels});
    const std::size_t per = in_channels * k * k;
    for (std::size_t o = 0; o < out_channels && !zeros; ++o) {
      T s = 0;
      for (std::size_t j = 0; j < per; ++j) s += w[o * per + j] * w[o * per + j];
      g[o] = std::sqrt(s);
    }
    params_.push_back(this->register_parameter("v", std::move(w)));
    params_.push_back(this->register_parameter("g", std::move(g)));
  } else {
    params_.push_back(this->register_parameter("weight", std::move(w)));
  }
  if (options.bias) params_.push_back(this->register_parameter("bias", std::move(b)));
  if (options.output_log_scale > 0.0)
    params_.push_back(this->register_parameter("logscale", Tensor<T>(Shape{out_channels})));
  ones_ = Var<T>(Tensor<T>({out_channels}, T(1)));
  zeros_ = Var<T>(Tensor<T>({out_channels}));
}

template <typename T>
Var<T> Conv2d<T>::effective_weight(const std::vector<Var<T>>& params) const {
  return options_.weight_norm ? weight_norm(params[0], params[1]) : params[0];
}

template <typename T>
Var<T> Conv2d<T>::weight() const {
  return effective_weight(params_);
}

template <typename T>
ConvAffineVars<T> Conv2d<T>::stage_of(const std::vector<Var<T>>& params, bool relu) const {
  std::size_t next = options_.weight_norm ? 2 : 1;
  const Var<T> bias = options_.bias ? params[next++] : Var<T>();
  if (options_.output_log_scale > 0.0) {
    // (conv(x) + b) * e^(f l) = conv(x) * e^(f l) + b * e^(f l)
    const Var<T> scale = exp(params[next] * static_cast<T>(options_.output_log_scale));
    return {effective_weight(params), scale, bias.defined() ? bias * scale : zeros_, relu};
  }
  return {effective_weight(params), ones_, bias.defined() ? bias : zeros_, relu};
}

template <typename T>
ConvAffineVars<T> Conv2d<T>::affine_stage(bool relu) const {
  return stage_of(params_, relu);
}

template <typename T>
Var<T> Conv2d<T>::compute(const Var<T>& x, const std::vector<Var<T>>& params) const {
  if (x.dim() != 4 || x.shape()[1] != in_)
    throw std::invalid_argument("Conv2d: expected input (N, " + std::to_string(in_) +
                                ", H, W), got " + shape_str(x.shape()));
  if (options_.output_log_scale > 0.0) {
    // The output scale fused into the convolution (one op).
    const ConvAffineVars<T> s = stage_of(params, false);
    return conv2d_affine(x, s.weight, s.scale, s.shift, false, options_.stride, options_.padding);
  }
  const Var<T> b = options_.bias ? params[options_.weight_norm ? 2 : 1] : Var<T>();
  return conv2d(x, effective_weight(params), b, options_.stride, options_.padding);
}

template <typename T>
Var<T> Conv2d<T>::forward_fused(const Var<T>& x, bool relu_input, bool relu_output) const {
  if (x.dim() != 4 || x.shape()[1] != in_)
    throw std::invalid_argument("Conv2d: expected input (N, " + std::to_string(in_) +
                                ", H, W), got " + shape_str(x.shape()));
  const ConvAffineVars<T> s = affine_stage(relu_output);
  return conv2d_affine(x, s.weight, s.scale, s.shift, relu_output, options_.stride,
                       options_.padding, relu_input);
}

template <typename T>
Var<T> Conv2d<T>::forward_with(const Var<T>& x, const std::vector<Var<T>>& params) const {
  if (params.size() != params_.size())
    throw std::invalid_argument("Conv2d::forward_with: expected " + std::to_string(params_.size()) +
                                " parameters, got " + std::to_string(params.size()));
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].shape() != params_[i].shape())
      throw std::invalid_argument("Conv2d::forward_with: parameter " + std::to_string(i) +
                                  " has shape " + shape_str(params[i].shape()) + ", expected " +
                                  shape_str(params_[i].shape()));
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
