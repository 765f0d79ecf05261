// flows/bijectors/actnorm.hpp — Glow's activation normalisation (Kingma & Dhariwal 2018, 3.1).
//
//   forward:  y = (x + bias_c) * exp(logs_c)          per channel c (axis 1)
//   inverse:  x = y * exp(-logs_c) - bias_c
//   log|det J| = H * W * sum_c logs_c   per sample (H * W = product of the axes after the
//                                         channel axis; 1 for (B, C) vectors)
// This is the (x + b) * s form of the openai/glow and PyTorch ports (s = exp(logs)), not
// x * s + b: the two are the same family, this one makes the initialisation read naturally.
//
// Data-dependent initialisation: the first forward() in training mode with the layer not yet
// initialised sets, under no-grad, bias_c = -mean_c(x) and logs_c = -log(sd_c(x) + 1e-6), with
// mean and (population) sd over batch and spatial positions, so that batch's output has zero
// mean and unit sd per channel. The "initialised" flag is a persistent buffer (shape (1), 0 or
// 1): a model restored by load_state_dict keeps its loaded bias/logs and is never
// re-initialised. Eval mode never initialises (nor does inverse()).
//
// ActNorm is the bijector; ActNormLayer is the same normalisation as a plain Layer (forward
// only, no log-det), used inside Glow's coupling network. Both register "bias", "logs" (C)
// and the buffer "initialised".
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "../../autograd/nn/module.hpp"
#include "../../autograd/ops_channel_affine.hpp"  // channel_affine, channel_affine_relu (users of ActNorm use them too)
#include "../bijector.hpp"

namespace fz {

namespace detail {
// The state and initialisation shared by ActNorm and ActNormLayer.
template <typename T>
struct ActNormState {
  Var<T> bias, logs;
  Tensor<T> initialised;  // shape (1): 0 or 1
  // Runs the data-dependent initialisation if needed (training mode, flag unset).
  void maybe_initialise(const Var<T>& x, bool training, const char* who);
  Var<T> apply(const Var<T>& x) const;          // (x + bias) * exp(logs)
  Var<T> apply_inverse(const Var<T>& y) const;  // y * exp(-logs) - bias
  Var<T> apply_relu(const Var<T>& x) const;     // max(0, apply(x)), fused
  // The formula as plain broadcast ops (what the three above run under reference_ops()).
  Var<T> apply_reference(const Var<T>& x) const;          // (x + bias) * exp(logs)
  Var<T> apply_inverse_reference(const Var<T>& y) const;  // y * exp(-logs) - bias
};
}  // namespace detail

template <typename T>
class ActNorm : public Bijector<T> {
 public:
  explicit ActNorm(std::size_t channels);
  std::string type_name() const override { return "ActNorm"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  std::size_t channels() const { return channels_; }
  bool initialised() const { return state_.initialised[0] != T(0); }
  // Sets (or clears) the flag by hand, e.g. to keep hand-set parameters.
  void set_initialised(bool on) { state_.initialised[0] = on ? T(1) : T(0); }

 private:
  std::size_t channels_;
  detail::ActNormState<T> state_;
};

template <typename T>
class ActNormLayer : public Layer<T> {
 public:
  explicit ActNormLayer(std::size_t channels);
  std::string type_name() const override { return "ActNormLayer"; }
  Var<T> forward(const Var<T>& x) override;
  // relu(forward(x)), fused (see channel_affine_relu).
  Var<T> forward_relu(const Var<T>& x);
  // relu(forward(conv2d(x, weight, no bias, stride 1, padding))) as one fused op
  // (conv2d_affine) once initialised; the data-dependent initialisation needs the convolution's
  // output itself, so that first call runs the two steps apart.
  Var<T> conv_forward_relu(const Var<T>& x, const Var<T>& weight, std::size_t padding);
  // The layer as y = scale_c * x + shift_c (scale = e^logs, shift = bias * scale), for fused
  // callers; valid once initialised.
  std::pair<Var<T>, Var<T>> scale_and_shift() const;
  // True when the next training forward pass will run the data-dependent initialisation.
  bool needs_initialisation() const { return this->is_training() && !initialised(); }

  std::size_t channels() const { return channels_; }
  bool initialised() const { return state_.initialised[0] != T(0); }
  void set_initialised(bool on) { state_.initialised[0] = on ? T(1) : T(0); }

 private:
  std::size_t channels_;
  detail::ActNormState<T> state_;
};

extern template class ActNorm<float>;
extern template class ActNorm<double>;
extern template class ActNormLayer<float>;
extern template class ActNormLayer<double>;

}  // namespace fz
