// flows/conditioners/resnet.cpp — the RealNVP ResNet conditioner, built from Conv2d layers.
#include "flows/conditioners/resnet.hpp"

#include <stdexcept>

#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"

namespace fz {

template <typename T>
std::shared_ptr<Conv2d<T>> resnet_conv(std::size_t in_channels, std::size_t out_channels, Rng& rng,
                                       bool weight_norm, bool zero_init) {
  Conv2dOptions o;
  o.kernel_size = 3;
  o.padding = 1;
  o.weight_norm = weight_norm;
  o.init = zero_init ? Conv2dInit::Zeros : Conv2dInit::Default;
  return std::make_shared<Conv2d<T>>(in_channels, out_channels, rng, o);
}

template <typename T>
ResNetConditioner<T>::ResNetConditioner(std::size_t in_channels, std::size_t features,
                                        std::size_t blocks, std::size_t out_channels, Rng& rng,
                                        bool weight_norm, bool zero_init_last) {
  conv_in_ = this->register_module("conv_in", resnet_conv<T>(in_channels, features, rng, weight_norm));
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::string n = "res" + std::to_string(b);
    res_a_.push_back(this->register_module(n + "a", resnet_conv<T>(features, features, rng, weight_norm)));
    res_b_.push_back(this->register_module(n + "b", resnet_conv<T>(features, features, rng, weight_norm)));
  }
  conv_out_ = this->register_module(
      "conv_out", resnet_conv<T>(features, out_channels, rng, weight_norm, zero_init_last));
}

template <typename T>
Var<T> ResNetConditioner<T>::forward(const Var<T>& x) {
  if (x.dim() != 4)
    throw std::invalid_argument("ResNetConditioner: expected (B, C, H, W), got " +
                                shape_str(x.shape()));
  // h + conv_b(relu(conv_a(relu(h)))) per block, conv_out(relu(h)) at the end; the ReLUs are
  // fused into the convolutions next to them and each block's two convolutions into one op
  // that never writes the middle activation out (same values as the separate ops).
  Var<T> h = conv_in_->forward(x);
  for (std::size_t b = 0; b < res_a_.size(); ++b)
    h = h + conv2d_affine_chain(h, /*relu_input=*/true,
                                {res_a_[b]->affine_stage(/*relu=*/true), res_b_[b]->affine_stage(/*relu=*/false)});
  return conv_out_->forward_fused(h, /*relu_input=*/true, /*relu_output=*/false);
}

template std::shared_ptr<Conv2d<float>> resnet_conv<float>(std::size_t, std::size_t, Rng&, bool, bool);
template std::shared_ptr<Conv2d<double>> resnet_conv<double>(std::size_t, std::size_t, Rng&, bool, bool);
template class ResNetConditioner<float>;
template class ResNetConditioner<double>;

}  // namespace fz
