// flows/split.cpp — factor-out with a standard-normal or learned conditional Gaussian prior.
#include "flows/split.hpp"

#include "autograd/ops_conv.hpp"
#include "flows/channel_split.hpp"
#include "flows/distributions/distribution.hpp"
#include "autograd/ops_elementwise.hpp"
#include "tensor/elementwise.hpp"

namespace fz {

template <typename T>
Split<T>::Split(std::size_t channels, bool learned_prior)
    : channels_(channels), learned_prior_(learned_prior) {
  if (channels < 2 || channels % 2 != 0)
    throw std::invalid_argument("Split: needs an even channel count, got " + std::to_string(channels));
  if (learned_prior_) {
    // Zero-initialised: the prior starts as N(0, I) and learns from there.
    weight_ = this->register_parameter("weight", Tensor<T>({channels, channels / 2, 3, 3}));
    bias_ = this->register_parameter("bias", Tensor<T>({channels}));
  }
}

template <typename T>
std::pair<Var<T>, Var<T>> Split<T>::prior_params(const Var<T>& kept) {
  Var<T> h = conv2d(kept, weight_, bias_, 1, 1);
  return interleaved_channels(h);  // (mean, log_sd)
}

template <typename T>
Var<T> Split<T>::log_prob(const Var<T>& kept, const Var<T>& z) {
  if (!learned_prior_) return StandardNormal<T>().log_prob(z);
  auto [mean, log_sd] = prior_params(kept);
  return ConditionalGaussian<T>::log_prob(z, mean, log_sd);
}

template <typename T>
SplitOutput<T> Split<T>::forward(const Var<T>& x) {
  if (x.dim() != 4 || x.shape()[1] != channels_)
    throw std::invalid_argument("Split: expected (B, " + std::to_string(channels_) +
                                ", H, W) input, got " + shape_str(x.shape()));
  auto [kept, z] = channel_halves(x);
  return {kept, z, log_prob(kept, z)};
}

template <typename T>
Var<T> Split<T>::inverse(const Var<T>& kept, const Var<T>& z) {
  return merge_channel_halves(kept, z);
}

template <typename T>
Tensor<T> Split<T>::sample_z(const Var<T>& kept, T temperature, Rng& rng) {
  if (!learned_prior_) return StandardNormal<T>().sample(kept.shape(), temperature, rng);
  auto [mean, log_sd] = prior_params(kept);
  return ConditionalGaussian<T>::sample(mean.value(), log_sd.value(), temperature, rng);
}

template <typename T>
Var<T> Split<T>::log_prob(const Var<T>& kept, const Var<T>& z, const GaussianShift<T>& shift) {
  if (!shift.defined()) return log_prob(kept, z);
  if (!learned_prior_) return ConditionalGaussian<T>::log_prob(z, shift.mean, shift.log_sd);
  auto [mean, log_sd] = prior_params(kept);
  return ConditionalGaussian<T>::log_prob(z, mean + shift.mean, log_sd + shift.log_sd);
}

template <typename T>
SplitOutput<T> Split<T>::forward(const Var<T>& x, const GaussianShift<T>& shift) {
  if (!shift.defined()) return forward(x);
  if (x.dim() != 4 || x.shape()[1] != channels_)
    throw std::invalid_argument("Split: expected (B, " + std::to_string(channels_) +
                                ", H, W) input, got " + shape_str(x.shape()));
  auto [kept, z] = channel_halves(x);
  return {kept, z, log_prob(kept, z, shift)};
}

template <typename T>
Tensor<T> Split<T>::sample_z(const Var<T>& kept, T temperature, Rng& rng, const GaussianShift<T>& shift) {
  if (!shift.defined()) return sample_z(kept, temperature, rng);
  if (!learned_prior_) return ConditionalGaussian<T>::sample(shift.mean.value(), shift.log_sd.value(), temperature, rng);
  auto [mean, log_sd] = prior_params(kept);
  return ConditionalGaussian<T>::sample(add(mean.value(), shift.mean.value()), add(log_sd.value(), shift.log_sd.value()),
                                        temperature, rng);
}

template class Split<float>;
template class Split<double>;

}  // namespace fz
