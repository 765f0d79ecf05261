// flows/conditioners/resnet.hpp — RealNVP's convolutional conditioner (BENCHMARKS.md,
// realnvp-fmnist), NCHW, every conv 3x3 with stride 1 and padding 1:
//
//   h = conv_in(x)                                     c_in -> features
//   repeat blocks:  h = h + conv_b(relu(conv_a(relu(h))))    features -> features
//   out = conv_out(relu(h))                            features -> c_out, zero-initialised
//
// Children (in order): "conv_in", "res0a", "res0b", "res1a", "res1b", ..., "conv_out".
// Parameter count: 9 c_in F + F + blocks * 2 (9 F^2 + F) + 9 F c_out + c_out; the first
// realnvp-fmnist coupling (c_in = 2, F = 32, 2 blocks, c_out = 2) has 38,178.
//
// Initialisation: PyTorch's nn.Conv2d default, weight and bias ~ U(-1/sqrt(fan_in), +), with
// fan_in = c_in * 9. Optional weight normalisation (Salimans & Kingma): weight = g * v / |v|,
// the norm over each output channel's (c_in, 3, 3) slice, parameters "v" (c_out, c_in, 3, 3),
// "g" (c_out) and "bias"; g starts at |v| so the initial weight equals v. A zero-initialised
// conv has weight and bias 0 — with weight norm: v random, g = 0 (v = 0 would make v/|v|
// undefined), so it still outputs exactly 0 at initialisation.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../../autograd/nn/module.hpp"
#include "../../tensor/random.hpp"

namespace fz {

// One k x k convolution, stride 1, "same" padding (k odd), optional weight norm.
// Parameters: "weight", "bias" — or "v", "g", "bias" with weight norm.
template <typename T>
class ConditionerConv : public Layer<T> {
 public:
  ConditionerConv(std::size_t in_channels, std::size_t out_channels, std::size_t kernel, Rng& rng,
                  bool weight_norm = false, bool zero_init = false);
  std::string type_name() const override { return weight_norm_ ? "WNConv2d" : "Conv2d"; }
  Var<T> forward(const Var<T>& x) override;
  // forward(relu(x)), then a ReLU too when relu_output: one fused op (conv2d_affine with
  // scale 1 and the bias as shift) instead of two or three.
  Var<T> forward_after_relu(const Var<T>& x, bool relu_output);
  // relu(conv(relu(x))) through this layer, then `next` (plain, with its bias) on that, as one
  // fused op (conv2d_affine_chain) that never writes the middle activation out.
  Var<T> forward_pair_after_relu(const Var<T>& x, ConditionerConv<T>& next);
  // The effective weight (g v / |v| with weight norm), differentiable.
  Var<T> weight() const;

 private:
  std::size_t kernel_;
  bool weight_norm_;
  Var<T> weight_, v_, g_, bias_;
  Var<T> ones_;  // the fused op's scale: a constant 1 per output channel
};

template <typename T>
class ResNetConditioner : public Layer<T> {
 public:
  ResNetConditioner(std::size_t in_channels, std::size_t features, std::size_t blocks,
                    std::size_t out_channels, Rng& rng, bool weight_norm = false,
                    bool zero_init_last = true);
  std::string type_name() const override { return "ResNetConditioner"; }
  // x: (B, in_channels, H, W) -> (B, out_channels, H, W).
  Var<T> forward(const Var<T>& x) override;

 private:
  std::shared_ptr<ConditionerConv<T>> conv_in_, conv_out_;
  std::vector<std::shared_ptr<ConditionerConv<T>>> res_a_, res_b_;
};

extern template class ConditionerConv<float>;
extern template class ConditionerConv<double>;
extern template class ResNetConditioner<float>;
extern template class ResNetConditioner<double>;

}  // namespace fz
