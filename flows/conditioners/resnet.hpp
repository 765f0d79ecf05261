// flows/conditioners/resnet.hpp — RealNVP's convolutional conditioner (BENCHMARKS.md,
// realnvp-fmnist), NCHW, every conv 3x3 with stride 1 and padding 1:
//
//   h = conv_in(x)                                     c_in -> features
//   repeat blocks:  h = h + conv_b(relu(conv_a(relu(h))))    features -> features
//   out = conv_out(relu(h))                            features -> c_out, zero-initialised
//
// Children (in order): "conv_in", "res0a", "res0b", "res1a", "res1b", ..., "conv_out", each a
// Conv2d (autograd/nn/conv2d.hpp; resnet_conv below) with "weight" and "bias" — or "v", "g" and
// "bias" with weight normalisation.
// Parameter count: 9 c_in F + F + blocks * 2 (9 F^2 + F) + 9 F c_out + c_out; the first
// realnvp-fmnist coupling (c_in = 2, F = 32, 2 blocks, c_out = 2) has 38,178.
//
// Initialisation: Conv2d's default (PyTorch's nn.Conv2d), weight and bias ~ U(-1/sqrt(fan_in), +),
// with fan_in = c_in * 9. Optional weight normalisation (Salimans & Kingma): weight = g * v / |v|,
// the norm over each output channel's (c_in, 3, 3) slice; g starts at |v| so the initial weight
// equals v. The zero-initialised conv_out is Conv2dInit::Zeros (with weight norm: v random,
// g = 0), so it outputs exactly 0 at initialisation; a transformer whose identity is not at
// zero parameters (the spline) gets its bias from Transformer::identity_parameters
// (flows/bijectors/coupling_factories.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../../autograd/nn/conv2d.hpp"
#include "../../autograd/nn/module.hpp"
#include "../../tensor/random.hpp"

namespace fz {

// The conditioner's convolution: 3x3, stride 1, "same" padding, a bias, optional weight norm,
// Conv2dInit::Zeros when zero_init.
template <typename T>
std::shared_ptr<Conv2d<T>> resnet_conv(std::size_t in_channels, std::size_t out_channels, Rng& rng,
                                       bool weight_norm = false, bool zero_init = false);

template <typename T>
class ResNetConditioner : public Layer<T> {
 public:
  ResNetConditioner(std::size_t in_channels, std::size_t features, std::size_t blocks,
                    std::size_t out_channels, Rng& rng, bool weight_norm = false,
                    bool zero_init_last = true);
  std::string type_name() const override { return "ResNetConditioner"; }
  // x: (B, in_channels, H, W) -> (B, out_channels, H, W).
  Var<T> forward(const Var<T>& x) override;
  // The output convolution (zero-initialised when zero_init_last).
  Conv2d<T>& conv_out() const { return *conv_out_; }

 private:
  std::shared_ptr<Conv2d<T>> conv_in_, conv_out_;
  std::vector<std::shared_ptr<Conv2d<T>>> res_a_, res_b_;
};

extern template std::shared_ptr<Conv2d<float>> resnet_conv<float>(std::size_t, std::size_t, Rng&, bool, bool);
extern template std::shared_ptr<Conv2d<double>> resnet_conv<double>(std::size_t, std::size_t, Rng&, bool, bool);
extern template class ResNetConditioner<float>;
extern template class ResNetConditioner<double>;

}  // namespace fz
