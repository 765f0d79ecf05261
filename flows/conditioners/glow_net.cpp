// flows/conditioners/glow_net.cpp — GlowNet (Glow's coupling conditioner) from Conv2d layers.
#include "flows/conditioners/glow_net.hpp"

#include <stdexcept>

#include "autograd/ops_conv.hpp"

namespace fz {

namespace {

template <typename T>
std::shared_ptr<Conv2d<T>> glow_conv(std::size_t in, std::size_t out, std::size_t kernel, bool zero, Rng& rng) {
  Conv2dOptions o;
  o.kernel_size = kernel;
  o.padding = kernel / 2;
  o.bias = zero;  // the hidden convs' bias is their ActNorm's
  o.init = zero ? Conv2dInit::Zeros : Conv2dInit::Normal;
  o.init_std = 0.05;
  o.output_log_scale = zero ? 3.0 : 0.0;
  return std::make_shared<Conv2d<T>>(in, out, rng, o);
}

}  // namespace

template <typename T>
GlowNet<T>::GlowNet(std::size_t in_channels, std::size_t out_channels, std::size_t hidden, Rng& rng)
    : in_channels_(in_channels), out_channels_(out_channels), hidden_(hidden) {
  if (in_channels == 0 || out_channels == 0 || hidden == 0)
    throw std::invalid_argument("GlowNet: channel counts must be positive, got " +
                                std::to_string(in_channels) + " -> " + std::to_string(hidden) +
                                " -> " + std::to_string(out_channels));
  conv1_ = glow_conv<T>(in_channels, hidden, 3, /*zero=*/false, rng);
  this->register_parameter("conv1_weight", conv1_->weight());
  actnorm1_ = this->register_module("actnorm1", std::make_shared<ActNormLayer<T>>(hidden));
  conv2_ = glow_conv<T>(hidden, hidden, 1, /*zero=*/false, rng);
  this->register_parameter("conv2_weight", conv2_->weight());
  actnorm2_ = this->register_module("actnorm2", std::make_shared<ActNormLayer<T>>(hidden));
  zero_conv_ = this->register_module("zero_conv", glow_conv<T>(hidden, out_channels, 3, /*zero=*/true, rng));
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
  const Var<T> w1 = conv1_->weight(), w2 = conv2_->weight();
  if (actnorm1_->needs_initialisation() || actnorm2_->needs_initialisation()) {
    const Var<T> h = actnorm1_->conv_forward_relu(x, w1, 1);
    return zero_conv_->forward(actnorm2_->conv_forward_relu(h, w2, 0));
  }
  const auto [s1, t1] = actnorm1_->scale_and_shift();
  const auto [s2, t2] = actnorm2_->scale_and_shift();
  return conv2d_affine_chain(x, /*relu_input=*/false,
                             {{w1, s1, t1, /*relu=*/true},
                              {w2, s2, t2, /*relu=*/true},
                              zero_conv_->affine_stage(/*relu=*/false)});
}

template class GlowNet<float>;
template class GlowNet<double>;

}  // namespace fz
