// autograd/nn/conv2d.hpp — Conv2d: a 2-D convolution layer (NCHW, square kernels, PyTorch
// conventions), with optional weight normalisation and Glow's zero-initialised, output-scaled
// variant. The one convolution layer of the project: RealNVP's ResNet conditioner
// (flows/conditioners/resnet.hpp) and Glow's coupling network (flows/conditioners/glow_net.hpp)
// are built from it.
//
// Parameters, in order:
//   "weight" (out, in, k, k)                      plain, or with weight_norm instead:
//   "v" (out, in, k, k), "g" (out)                w = g * v / ||v||, the norm taken per output
//                                                 channel (over in, k, k) — Salimans & Kingma;
//                                                 g starts at ||v|| so w = v initially.
//   "bias" (out)                                  if options.bias
//   "logscale" (out)                              if options.output_log_scale > 0: the output
//                                                 is multiplied by exp(logscale * output_log_scale)
//                                                 per channel (Glow's zero conv uses 3).
// Initialisation (options.init): Default is PyTorch's nn.Conv2d (weight, then bias, each
// U(+-1/sqrt(fan_in)), fan_in = in * k * k); Normal (N(0, init_std^2), bias 0 — Glow's default
// conv); Zeros makes the layer output exactly 0 at first (weight, bias and logscale 0, no
// draws; with weight_norm, g = 0 and v keeps a Default random direction, since v = 0 would
// make v / ||v|| undefined, so that g still gets a gradient).
//
// Every Conv2d can also run as one stage of the fused conv -> per-channel affine (-> ReLU)
// kernels (autograd/ops_conv.hpp): affine_stage() gives its (weight, scale, shift), which is
// how the conditioners chain several convolutions into one op.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "module.hpp"
#include "../ops_conv.hpp"
#include "../../tensor/random.hpp"

namespace fz {

enum class Conv2dInit { Default, Normal, Zeros };

struct Conv2dOptions {
  std::size_t kernel_size = 3;
  std::size_t stride = 1;
  std::size_t padding = 0;  // kernel_size / 2 keeps H and W for odd kernels at stride 1
  bool bias = true;
  bool weight_norm = false;
  Conv2dInit init = Conv2dInit::Default;
  double init_std = 0.05;          // for Conv2dInit::Normal
  double output_log_scale = 0.0;   // > 0 adds the learned per-channel output scale "logscale"
};

template <typename T>
class Conv2d : public Layer<T> {
 public:
  // Throws std::invalid_argument for zero channels, kernel size or stride.
  Conv2d(std::size_t in_channels, std::size_t out_channels, Rng& rng,
         const Conv2dOptions& options = {});

  std::string type_name() const override { return options_.weight_norm ? "WNConv2d" : "Conv2d"; }
  // x: (N, in, H, W) -> (N, out, H', W').
  Var<T> forward(const Var<T>& x) override;
  // forward(relu(x)) (when relu_input), then a ReLU (when relu_output), as the one fused op
  // conv2d_affine with affine_stage()'s scale and shift.
  Var<T> forward_fused(const Var<T>& x, bool relu_input, bool relu_output) const;
  // The same computation as forward with `params` in place of the module's own (order of
  // parameters()); forward(x) == forward_with(x, parameters()). For gradchecks.
  Var<T> forward_with(const Var<T>& x, const std::vector<Var<T>>& params) const;
  // The effective kernel (out, in, k, k): the parameter itself, or g * v / ||v|| computed
  // with differentiable ops (so it is on the tape when recording).
  Var<T> weight() const;
  // This layer as a stage of conv2d_affine_chain: y = act(scale * conv2d(x, weight) + shift)
  // per output channel with scale = exp(factor * logscale) (or a constant 1) and shift =
  // bias * scale (or a constant 0). Equal to forward for stride 1 and "same" padding.
  ConvAffineVars<T> affine_stage(bool relu) const;

  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return out_; }
  const Conv2dOptions& options() const { return options_; }

 private:
  Var<T> compute(const Var<T>& x, const std::vector<Var<T>>& params) const;
  Var<T> effective_weight(const std::vector<Var<T>>& params) const;
  ConvAffineVars<T> stage_of(const std::vector<Var<T>>& params, bool relu) const;

  std::size_t in_, out_;
  Conv2dOptions options_;
  std::vector<Var<T>> params_;  // own parameters in registration order (no lookup per call)
  Var<T> ones_, zeros_;         // constant scale / shift of a stage without logscale / bias
};

// w = v * (g / ||v||) with the norm over every axis but the first (differentiable).
// v: (out, ...), g: (out).
template <typename T>
Var<T> weight_norm(const Var<T>& v, const Var<T>& g);

extern template class Conv2d<float>;
extern template class Conv2d<double>;

}  // namespace fz
