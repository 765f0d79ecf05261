// flows/bijectors/actnorm.cpp — ActNorm's data-dependent initialisation, its (x + b) e^s on the
// fused channel_affine op (autograd/ops_channel_affine.hpp) or, under reference_ops(), as the
// plain ops of the formula, and the ActNorm bijector / ActNormLayer.
#include "flows/bijectors/actnorm.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "autograd/ops_channel_affine.hpp"
#include "autograd/ops_conv.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "flows/collective.hpp"
#include "tensor/reference_mode.hpp"

namespace fz {

namespace {

// (B, C, inner) view of a (B, C, ...) shape.
struct ChannelGeom {
  std::size_t batch, channels, inner;
  std::size_t rows() const { return batch * channels; }
};

ChannelGeom channel_geom(const Shape& s, std::size_t channels, const char* op) {
  if (s.size() < 2 || s[1] != channels)
    throw std::invalid_argument(std::string(op) + ": expected an input (B, " +
                                std::to_string(channels) + ", ...), got shape " + shape_str(s));
  return {s[0], s[1], s[0] * s[1] == 0 ? 0 : shape_numel(s) / (s[0] * s[1])};
}

}  // namespace

// ---- shared state ----------------------------------------------------------------------------

namespace detail {

template <typename T>
void ActNormState<T>::maybe_initialise(const Var<T>& x, bool training, const char* who) {
  if (!training || initialised[0] != T(0)) return;
  const std::size_t C = bias.shape()[0];
  const ChannelGeom g = channel_geom(x.shape(), C, who);
  // Data parallel (flows/collective.hpp): the statistics are the GLOBAL batch's — each pass's
  // per-channel sums (and the element count) are summed over the ranks, so every rank sets the
  // same bias and scale a single process would from the whole batch. With one process the
  // sums are the identity and this is the plain two-pass computation.
  Collective& ranks = current_collective();
  double count = double(g.batch * g.inner);
  if (ranks.distributed()) ranks.allreduce_sum(&count, 1);
  if (count == 0) throw std::invalid_argument(std::string(who) + ": cannot initialise from an empty batch");
  // Two passes in double: mean, then the mean squared deviation (population variance).
  const T* xp = x.value().data();
  std::vector<double> mean(C, 0.0), var(C, 0.0);
  for (std::size_t r = 0; r < g.rows(); ++r) {
    double s = 0;
    for (std::size_t i = 0; i < g.inner; ++i) s += xp[r * g.inner + i];
    mean[r % C] += s;
  }
  if (ranks.distributed()) ranks.allreduce_sum(mean.data(), C);
  for (double& m : mean) m /= double(count);
  for (std::size_t r = 0; r < g.rows(); ++r) {
    const double m = mean[r % C];
    double s = 0;
    for (std::size_t i = 0; i < g.inner; ++i) {
      const double d = xp[r * g.inner + i] - m;
      s += d * d;
    }
    var[r % C] += s;
  }
  if (ranks.distributed()) ranks.allreduce_sum(var.data(), C);
  Tensor<T>& b = bias.mutable_value();
  Tensor<T>& l = logs.mutable_value();
  for (std::size_t c = 0; c < C; ++c) {
    // 1e-6 keeps a constant channel finite (as openai/glow does).
    b[c] = T(-mean[c]);
    l[c] = T(-std::log(std::sqrt(var[c] / double(count)) + 1e-6));
  }
  initialised[0] = T(1);
}

// The plain form of ActNorm, the formula as written: (x + b) e^l and y e^-l - b with b and l
// broadcast per channel. What reference_ops() runs, and what the fused paths below equal.
template <typename T>
Var<T> ActNormState<T>::apply_reference(const Var<T>& x) const {
  const Shape per_channel = channel_broadcast_shape(x.shape(), bias.shape()[0]);
  return (x + reshape(bias, per_channel)) * exp(reshape(logs, per_channel));
}

template <typename T>
Var<T> ActNormState<T>::apply_inverse_reference(const Var<T>& y) const {
  const Shape per_channel = channel_broadcast_shape(y.shape(), bias.shape()[0]);
  return y * exp(neg(reshape(logs, per_channel))) - reshape(bias, per_channel);
}

template <typename T>
Var<T> ActNormState<T>::apply(const Var<T>& x) const {
  if (reference_ops()) return apply_reference(x);
  // (x + b) * e^l = x * e^l + b * e^l: one fused pass over x
  Var<T> s = exp(logs);
  return channel_affine(x, s, bias * s);
}

template <typename T>
Var<T> ActNormState<T>::apply_relu(const Var<T>& x) const {
  if (reference_ops()) return relu(apply_reference(x));
  Var<T> s = exp(logs);
  return channel_affine_relu(x, s, bias * s);
}

template <typename T>
Var<T> ActNormState<T>::apply_inverse(const Var<T>& y) const {
  if (reference_ops()) return apply_inverse_reference(y);
  // y * e^-l - b
  return channel_affine(y, exp(neg(logs)), neg(bias));
}

}  // namespace detail

namespace {
template <typename T>
detail::ActNormState<T> make_state(std::size_t channels, const char* who) {
  if (channels == 0) throw std::invalid_argument(std::string(who) + ": channels must be positive");
  return {};
}
}  // namespace

// ---- ActNorm (bijector) ----------------------------------------------------------------------

template <typename T>
ActNorm<T>::ActNorm(std::size_t channels)
    : channels_(channels), state_(make_state<T>(channels, "ActNorm")) {
  state_.bias = this->register_parameter("bias", Tensor<T>({channels}));
  state_.logs = this->register_parameter("logs", Tensor<T>({channels}));
  state_.initialised = this->register_buffer("initialised", Tensor<T>({1}));
}

template <typename T>
Transformed<T> ActNorm<T>::forward(const Var<T>& x) {
  state_.maybe_initialise(x, this->is_training(), "ActNorm");
  const ChannelGeom g = channel_geom(x.shape(), channels_, "ActNorm");
  // log|det| = H W sum(logs)
  return {state_.apply(x), constant_logdet(sum(state_.logs) * T(g.inner), g.batch)};
}

template <typename T>
Transformed<T> ActNorm<T>::inverse(const Var<T>& y) {
  const ChannelGeom g = channel_geom(y.shape(), channels_, "ActNorm");
  return {state_.apply_inverse(y), constant_logdet(sum(state_.logs) * T(-double(g.inner)), g.batch)};
}

// ---- ActNormLayer (plain layer) --------------------------------------------------------------

template <typename T>
ActNormLayer<T>::ActNormLayer(std::size_t channels)
    : channels_(channels), state_(make_state<T>(channels, "ActNormLayer")) {
  state_.bias = this->register_parameter("bias", Tensor<T>({channels}));
  state_.logs = this->register_parameter("logs", Tensor<T>({channels}));
  state_.initialised = this->register_buffer("initialised", Tensor<T>({1}));
}

template <typename T>
Var<T> ActNormLayer<T>::forward(const Var<T>& x) {
  state_.maybe_initialise(x, this->is_training(), "ActNormLayer");
  return state_.apply(x);
}

template <typename T>
Var<T> ActNormLayer<T>::forward_relu(const Var<T>& x) {
  state_.maybe_initialise(x, this->is_training(), "ActNormLayer");
  return state_.apply_relu(x);
}

template <typename T>
Var<T> ActNormLayer<T>::conv_forward_relu(const Var<T>& x, const Var<T>& weight,
                                          std::size_t padding) {
  // The initialisation needs the convolution's output itself; the reference path keeps the
  // three steps apart (conv2d, then (z + b) e^l, then ReLU).
  if (needs_initialisation() || reference_ops())
    return forward_relu(conv2d(x, weight, Var<T>(), 1, padding));
  const auto [s, t] = scale_and_shift();  // then ReLU, fused into the convolution
  return conv2d_affine(x, weight, s, t, /*relu=*/true, 1, padding);
}

template <typename T>
std::pair<Var<T>, Var<T>> ActNormLayer<T>::scale_and_shift() const {
  // (z + b) e^l = z e^l + b e^l
  const Var<T> s = exp(state_.logs);
  return {s, state_.bias * s};
}

template struct detail::ActNormState<float>;
template struct detail::ActNormState<double>;
template class ActNorm<float>;
template class ActNorm<double>;
template class ActNormLayer<float>;
template class ActNormLayer<double>;

}  // namespace fz
