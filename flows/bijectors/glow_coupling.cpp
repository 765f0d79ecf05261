// flows/bijectors/glow_coupling.cpp — GlowCoupling (affine / additive) and glow_step.
#include "flows/bijectors/glow_coupling.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "flows/bijectors/actnorm.hpp"
#include "flows/bijectors/invertible_conv1x1.hpp"
#include "flows/channel_split.hpp"

namespace fz {

template <typename T>
GlowCoupling<T>::GlowCoupling(std::size_t channels, std::size_t hidden, Rng& rng, bool affine)
    : channels_(channels), affine_(affine) {
  if (channels < 2 || channels % 2 != 0)
    throw std::invalid_argument("GlowCoupling: channels must be even and >= 2, got " +
                                std::to_string(channels));
  // affine: shift and pre-scale for each of the C/2 transformed channels; additive: a shift.
  net_ = this->register_module(
      "net", std::make_shared<GlowNet<T>>(channels / 2, affine ? channels : channels / 2, hidden, rng));
}

namespace {
void check_input(const Shape& s, std::size_t channels) {
  if (s.size() != 4 || s[1] != channels)
    throw std::invalid_argument("GlowCoupling: expected an input (B, " + std::to_string(channels) +
                                ", H, W), got shape " + shape_str(s));
}
}  // namespace

template <typename T>
Transformed<T> GlowCoupling<T>::forward(const Var<T>& x) {
  check_input(x.shape(), channels_);
  auto [xa, xb] = channel_halves(x);
  const Var<T> h = net_->forward(xa);
  if (!affine_) return {merge_channel_halves(xa, xb + h), zero_logdet<T>(x.shape()[0])};
  auto [shift, pre] = interleaved_channels(h);
  const Var<T> z = pre + T(2);
  // y_b = (x_b + shift) * sigmoid(pre + 2);  log|det| = sum log sigmoid(pre + 2)
  const Var<T> yb = (xb + shift) * sigmoid(z);
  return {merge_channel_halves(xa, yb), sum_per_sample(logsigmoid(z))};
}

template <typename T>
Transformed<T> GlowCoupling<T>::inverse(const Var<T>& y) {
  check_input(y.shape(), channels_);
  auto [ya, yb] = channel_halves(y);
  const Var<T> h = net_->forward(ya);
  if (!affine_) return {merge_channel_halves(ya, yb - h), zero_logdet<T>(y.shape()[0])};
  auto [shift, pre] = interleaved_channels(h);
  const Var<T> z = pre + T(2);
  // x_b = y_b / sigmoid(pre + 2) - shift;  log|det| = -sum log sigmoid(pre + 2)
  const Var<T> xb = yb / sigmoid(z) - shift;
  return {merge_channel_halves(ya, xb), neg(sum_per_sample(logsigmoid(z)))};
}

template <typename T>
std::shared_ptr<Chain<T>> glow_step(std::size_t channels, std::size_t hidden, Rng& rng, bool lu,
                                    bool affine) {
  auto step = std::make_shared<Chain<T>>();
  step->add(std::make_shared<ActNorm<T>>(channels));
  if (lu)
    step->add(std::make_shared<InvConv1x1LU<T>>(channels, rng));
  else
    step->add(std::make_shared<InvConv1x1<T>>(channels, rng));
  step->add(std::make_shared<GlowCoupling<T>>(channels, hidden, rng, affine));
  return step;
}

template class GlowCoupling<float>;
template class GlowCoupling<double>;
template std::shared_ptr<Chain<float>> glow_step<float>(std::size_t, std::size_t, Rng&, bool, bool);
template std::shared_ptr<Chain<double>> glow_step<double>(std::size_t, std::size_t, Rng&, bool, bool);

}  // namespace fz
