// flows/conditioners/glow_net.hpp — the conditioner network of Glow's coupling layer
// (Kingma & Dhariwal 2018; openai/glow's f()), on NCHW images:
//
//   conv3x3 (c_in -> hidden, pad 1, no bias) -> ActNorm -> ReLU
//   -> conv1x1 (hidden -> hidden, no bias) -> ActNorm -> ReLU
//   -> zero conv (hidden -> c_out, zero-initialised, learned output scale)
//
// Every convolution is a Conv2d (autograd/nn/conv2d.hpp). The hidden convs carry no bias
// because the ActNorm after each of them already adds a per-channel bias (openai/glow does the
// same). Their weights start as N(0, 0.05^2) (Conv2dInit::Normal), Glow's default initialiser;
// the ActNorms' data-dependent initialisation (on the first training batch, see
// flows/bijectors/actnorm.hpp) makes the scale of that choice irrelevant. Padding is zero
// padding.
//
// The zero conv (openai/glow's conv2d_zeros) is a Conv2d with Conv2dInit::Zeros and
// output_log_scale 3: y = (conv3x3(x, W, pad 1) + b) * exp(3 * logscale_c) with W, b and the
// per-channel logscale all initialised to zero, so the network outputs zeros at initialisation
// and a coupling that uses it starts as (almost) the identity. The factor 3 lets the output
// scale move quickly.
//
// Names: GlowNet registers "conv1_weight" (hidden, c_in, 3, 3), child "actnorm1",
// "conv2_weight" (hidden, hidden, 1, 1), child "actnorm2", child "zero_conv" with "weight"
// (c_out, c_in, 3, 3), "bias" (c_out), "logscale" (c_out). The two hidden Conv2d layers are not
// children: their weights are registered on GlowNet under the names checkpoints have used.
// Parameter count: 9 c_in h + 2 h + h^2 + 2 h + 9 h c_out + 2 c_out.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "../../autograd/nn/conv2d.hpp"
#include "../../autograd/nn/module.hpp"
#include "../bijectors/actnorm.hpp"
#include "../../tensor/random.hpp"

namespace fz {

template <typename T>
class GlowNet : public Layer<T> {
 public:
  GlowNet(std::size_t in_channels, std::size_t out_channels, std::size_t hidden, Rng& rng);
  std::string type_name() const override { return "GlowNet"; }
  // x: (B, in_channels, H, W) -> (B, out_channels, H, W).
  Var<T> forward(const Var<T>& x) override;

  std::size_t in_channels() const { return in_channels_; }
  std::size_t out_channels() const { return out_channels_; }
  std::size_t hidden() const { return hidden_; }
  // The output convolution (the zero conv).
  Conv2d<T>& zero_conv() const { return *zero_conv_; }

 private:
  std::size_t in_channels_, out_channels_, hidden_;
  std::shared_ptr<Conv2d<T>> conv1_, conv2_;
  std::shared_ptr<ActNormLayer<T>> actnorm1_, actnorm2_;
  std::shared_ptr<Conv2d<T>> zero_conv_;
};

extern template class GlowNet<float>;
extern template class GlowNet<double>;

}  // namespace fz
