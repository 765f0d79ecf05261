// autograd/nn/conv2d.hpp — Conv2d: a 2-D convolution layer (NCHW, square kernels, PyTorch
// conventions), with optional weight normalisation and Glow's zero-initialised variant.
//
// Parameters, in order:
//   "weight" (out, in, k, k)                      plain, or with weight_norm instead:
//   "weight_g" (out, 1, 1, 1), "weight_v" (out, in, k, k)
//                                                 w = g * v / ||v||, the norm taken per output
//                                                 channel (over in, k, k) — Salimans & Kingma;
//                                                 g starts at ||v|| so w = v initially.
//   "bias" (out)                                  if options.bias
//   "logs" (out)                                  if options.output_log_scale > 0: the output
//                                                 is multiplied by exp(logs * output_log_scale)
//                                                 per channel (Glow's Conv2dZeros uses 3).
// Initialisation (options.init): Default is PyTorch's (kaiming_uniform(a = sqrt(5)), bias
// U(+-1/sqrt(fan_in))); XavierUniform (bias 0); Normal (N(0, init_std^2), bias 0 — Glow's
// default conv); Zeros makes the layer output exactly 0 at first (weight and bias 0; with
// weight_norm, g = 0 and v keeps a random direction so that g still gets a gradient).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "module.hpp"
#include "../../tensor/random.hpp"

namespace fz {

enum class Conv2dInit { Default, XavierUniform, Normal, Zeros };

struct Conv2dOptions {
  std::size_t kernel_size = 3;
  std::size_t stride = 1;
  std::size_t padding = 0;  // kernel_size / 2 keeps H and W for odd kernels at stride 1
  bool bias = true;
  bool weight_norm = false;
  Conv2dInit init = Conv2dInit::Default;
  double init_std = 0.05;          // for Conv2dInit::Normal
  double output_log_scale = 0.0;   // > 0 adds the learned per-channel output scale "logs"
};

template <typename T>
class Conv2d : public Layer<T> {
 public:
  // Throws std::invalid_argument for zero channels, kernel size or stride.
  Conv2d(std::size_t in_channels, std::size_t out_channels, Rng& rng,
         const Conv2dOptions& options = {});

  std::string type_name() const override { return "Conv2d"; }
  // x: (N, in, H, W) -> (N, out, H', W').
  Var<T> forward(const Var<T>& x) override;
  // The same computation with `params` in place of the module's own (order of
  // parameters()); forward(x) == forward_with(x, parameters()). For gradchecks.
  Var<T> forward_with(const Var<T>& x, const std::vector<Var<T>>& params) const;
  // The effective kernel (out, in, k, k): the parameter itself, or g * v / ||v|| computed
  // with differentiable ops (so it is on the tape when recording).
  Var<T> weight() const;

  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return out_; }
  const Conv2dOptions& options() const { return options_; }

 private:
  Var<T> compute(const Var<T>& x, const std::vector<Var<T>>& params) const;
  Var<T> effective_weight(const std::vector<Var<T>>& params) const;

  std::size_t in_, out_;
  Conv2dOptions options_;
  std::vector<Var<T>> params_;  // own parameters in registration order (no lookup per call)
};

// w = g * v / ||v|| with the norm over every axis but the first (differentiable).
// v: (out, ...), g: (out, 1, ..., 1) with as many axes as v.
template <typename T>
Var<T> weight_norm(const Var<T>& v, const Var<T>& g);

extern template class Conv2d<float>;
extern template class Conv2d<double>;

}  // namespace fz
