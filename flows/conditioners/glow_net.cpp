// flows/conditioners/glow_net.cpp — Conv2dZeros and GlowNet (Glow's coupling conditioner).
#include "flows/conditioners/glow_net.hpp"

#include <stdexcept>

#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"

namespace fz {

template <typename T>
Conv2dZeros<T>::Conv2dZeros(std::size_t in_channels, std::size_t out_channels,
                            std::size_t kernel, T logscale_factor)
    : padding_(kernel / 2), logscale_factor_(logscale_factor) {
  if (in_channels == 0 || out_channels == 0 || kernel % 2 == 0)
    throw std::invalid_argument("Conv2dZeros: channels must be positive and the kernel odd, got " +
                                std::to_string(in_channels) + " -> " + std::to_string(out_channels) +
                                ", kernel " + std::to_string(kernel));
  weight_ = this->register_parameter("weight", Tensor<T>({out_channels, in_channels, kernel, kernel}));
  bias_ = this->register_parameter("bias", Tensor<T>({out_channels}));
  logscale_ = this->register_parameter("logscale", Tensor<T>({out_channels}));
}

template <typename T>
std::pair<Var<T>, Var<T>> Conv2dZeros<T>::scale_and_shift() const {
  // (conv(x) + b) * e^(3 l) = conv(x) * e^(3 l) + b * e^(3 l)
  const Var<T> s = exp(logscale_ * logscale_factor_);
  return {s, bias_ * s};
}

template <typename T>
Var<T> Conv2dZeros<T>::forward(const Var<T>& x) {
  const auto [s, t] = scale_and_shift();  // fused into the convolution
  return conv2d_affine(x, weight_, s, t, /*relu=*/false, 1, padding_);
}

template <typename T>
GlowNet<T>::GlowNet(std::size_t in_channels, std::size_t out_channels, std::size_t hidden, Rng& rng)
    : in_channels_(in_channels), out_channels_(out_channels), hidden_(hidden) {
  if (in_channels == 0 || out_channels == 0 || hidden == 0)
    throw std::invalid_argument("GlowNet: channel counts must be positive, got " +
                                std::to_string(in_channels) + " -> " + std::to_string(hidden) +
                                " -> " + std::to_string(out_channels));
  conv1_weight_ = this->register_parameter(
      "conv1_weight", rng.normal<T>({hidden, in_channels, 3, 3}, T(0), T(0.05)));
  actnorm1_ = this->register_module("actnorm1", std::make_shared<ActNormLayer<T>>(hidden));
  conv2_weight_ = this->register_parameter(
      "conv2_weight", rng.normal<T>({hidden, hidden, 1, 1}, T(0), T(0.05)));
  actnorm2_ = this->register_module("actnorm2", std::make_shared<ActNormLayer<T>>(hidden));
  zero_conv_ = this->register_module("zero_conv", std::make_shared<Conv2dZeros<T>>(hidden, out_channels));
}

template <typename T>
Var<T> GlowNet<T>::forward(const Var<T>& x) {
  if (x.dim() != 4 || x.shape()[1] != in_channels_)
    throw std::invalid_argument("GlowNet: expected an input (B, " + std::to_string(in_channels_) +
                                ", H, W), got shape " + shape_str(x.shape()));
  // conv3x3 -> ActNorm -> ReLU -> conv1x1 -> ActNorm -> ReLU -> zero conv as one op whose
  // hidden activations never leave the GEMMs' layouts (same values as the layers one by one).
  // ActNorm's data-dependent initialisation needs its convolution's output itself, so that
  // first training call runs the layers apart.
  if (actnorm1_->needs_initialisation() || actnorm2_->needs_initialisation()) {
    const Var<T> h = actnorm1_->conv_forward_relu(x, conv1_weight_, 1);
    return zero_conv_->forward(actnorm2_->conv_forward_relu(h, conv2_weight_, 0));
  }
  const auto [s1, t1] = actnorm1_->scale_and_shift();
  const auto [s2, t2] = actnorm2_->scale_and_shift();
  const auto [sz, tz] = zero_conv_->scale_and_shift();
  return conv2d_affine_chain(x, /*relu_input=*/false,
                             {{conv1_weight_, s1, t1, /*relu=*/true},
                              {conv2_weight_, s2, t2, /*relu=*/true},
                              {zero_conv_->weight(), sz, tz, /*relu=*/false}});
}

template class Conv2dZeros<float>;
template class Conv2dZeros<double>;
template class GlowNet<float>;
template class GlowNet<double>;

}  // namespace fz
