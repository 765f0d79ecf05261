// flows/conditioners/resnet.cpp — ConditionerConv (conv with optional weight norm) and the
// RealNVP ResNet conditioner built from it.
#include "flows/conditioners/resnet.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

template <typename T>
ConditionerConv<T>::ConditionerConv(std::size_t in_channels, std::size_t out_channels,
                                    std::size_t kernel, Rng& rng, bool weight_norm, bool zero_init)
    : kernel_(kernel), weight_norm_(weight_norm) {
  if (in_channels == 0 || out_channels == 0 || kernel % 2 == 0)
    throw std::invalid_argument("ConditionerConv: needs positive channels and an odd kernel, got " +
                                std::to_string(in_channels) + " -> " +
                                std::to_string(out_channels) + ", kernel " + std::to_string(kernel));
  const Shape wshape{out_channels, in_channels, kernel, kernel};
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_channels * kernel * kernel));
  if (weight_norm) {
    Tensor<T> v = rng.uniform<T>(wshape, -bound, bound);
    Tensor<T> g({out_channels});
    const std::size_t per = in_channels * kernel * kernel;
    if (!zero_init)
      for (std::size_t o = 0; o < out_channels; ++o) {
        T s = 0;
        for (std::size_t j = 0; j < per; ++j) s += v[o * per + j] * v[o * per + j];
        g[o] = std::sqrt(s);
      }
    v_ = this->register_parameter("v", std::move(v));
    g_ = this->register_parameter("g", std::move(g));
  } else {
    weight_ = this->register_parameter(
        "weight", zero_init ? Tensor<T>(wshape) : rng.uniform<T>(wshape, -bound, bound));
  }
  bias_ = this->register_parameter(
      "bias", zero_init ? Tensor<T>({out_channels}) : rng.uniform<T>({out_channels}, -bound, bound));
  ones_ = Var<T>(Tensor<T>({out_channels}, T(1)));
}

template <typename T>
Var<T> ConditionerConv<T>::weight() const {
  if (!weight_norm_) return weight_;
  // w = g v / |v|, per output channel.
  const Shape& s = v_.shape();
  Var<T> norm = sqrt(sum(square(v_), std::vector<int>{1, 2, 3}, true));  // (O, 1, 1, 1)
  return v_ * (reshape(g_, Shape{s[0], 1, 1, 1}) / norm);
}

template <typename T>
Var<T> ConditionerConv<T>::forward(const Var<T>& x) {
  return conv2d(x, weight(), bias_, 1, kernel_ / 2);
}

template <typename T>
Var<T> ConditionerConv<T>::forward_after_relu(const Var<T>& x, bool relu_output) {
  return conv2d_affine(x, weight(), ones_, bias_, relu_output, 1, kernel_ / 2,
                       /*relu_input=*/true);
}

template <typename T>
Var<T> ConditionerConv<T>::forward_pair_after_relu(const Var<T>& x, ConditionerConv<T>& next) {
  return conv2d_affine_chain(x, /*relu_input=*/true,
                             {{weight(), ones_, bias_, /*relu=*/true},
                              {next.weight(), next.ones_, next.bias_, /*relu=*/false}});
}

template <typename T>
ResNetConditioner<T>::ResNetConditioner(std::size_t in_channels, std::size_t features,
                                        std::size_t blocks, std::size_t out_channels, Rng& rng,
                                        bool weight_norm, bool zero_init_last) {
  conv_in_ = this->register_module(
      "conv_in", std::make_shared<ConditionerConv<T>>(in_channels, features, 3, rng, weight_norm));
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::string n = "res" + std::to_string(b);
    res_a_.push_back(this->register_module(
        n + "a", std::make_shared<ConditionerConv<T>>(features, features, 3, rng, weight_norm)));
    res_b_.push_back(this->register_module(
        n + "b", std::make_shared<ConditionerConv<T>>(features, features, 3, rng, weight_norm)));
  }
  conv_out_ = this->register_module(
      "conv_out", std::make_shared<ConditionerConv<T>>(features, out_channels, 3, rng, weight_norm,
                                                       zero_init_last));
}

template <typename T>
Var<T> ResNetConditioner<T>::forward(const Var<T>& x) {
  if (x.dim() != 4)
    throw std::invalid_argument("ResNetConditioner: expected (B, C, H, W), got " +
                                shape_str(x.shape()));
  // h + conv_b(relu(conv_a(relu(h)))) per block, conv_out(relu(h)) at the end; the ReLUs are
  // fused into the convolutions next to them and each block's two convolutions into one op
  // (same values as the separate ops).
  Var<T> h = conv_in_->forward(x);
  for (std::size_t b = 0; b < res_a_.size(); ++b)
    h = h + res_a_[b]->forward_pair_after_relu(h, *res_b_[b]);
  return conv_out_->forward_after_relu(h, /*relu_output=*/false);
}

template class ConditionerConv<float>;
template class ConditionerConv<double>;
template class ResNetConditioner<float>;
template class ResNetConditioner<double>;

}  // namespace fz
