// flows/transformers/affine.cpp — RealNVP's affine transformer and its fused split-coupling
// forward (affine_coupling_tanh over the op of autograd/ops_affine_coupling.hpp).
#include "flows/transformers/affine.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "autograd/ops_affine_coupling.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "flows/channel_split.hpp"

namespace fz {

template <typename T>
AffineTransformer<T>::AffineTransformer(std::size_t channels, bool learned_scale)
    : channels_(channels), learned_scale_(learned_scale) {
  if (channels == 0) throw std::invalid_argument("AffineTransformer: needs at least one channel");
  if (learned_scale) scale_ = this->register_parameter("scale", Tensor<T>({channels}, T(1)));
}

template <typename T>
std::pair<Var<T>, Var<T>> AffineTransformer<T>::log_scale_and_shift(const Var<T>& x, const Var<T>& params,
                                                                    const char* who) const {
  Shape want = x.shape();
  if (want.size() >= 2) want[1] *= 2;
  if (x.dim() < 2 || x.shape()[1] != channels_ || params.shape() != want)
    throw std::invalid_argument(std::string(who) + ": built for " + std::to_string(channels_) +
                                " channels with parameters (B, " + std::to_string(2 * channels_) +
                                ", ...) (s then t); got input " + shape_str(x.shape()) + " and parameters " +
                                shape_str(params.shape()));
  auto [s, t] = channel_halves(params);
  Var<T> log_s = tanh(s);
  if (learned_scale_) {
    Shape bs(params.dim(), 1);  // (1, k, 1, 1) for images, (1, k) for vectors
    bs[1] = channels_;
    log_s = log_s * reshape(scale_, bs);
  }
  return {log_s, t};
}

template <typename T>
Elementwise<T> AffineTransformer<T>::forward(const Var<T>& x, const Var<T>& params) {
  auto [log_s, t] = log_scale_and_shift(x, params, "AffineTransformer::forward");
  return {x * exp(log_s) + t, log_s};
}

template <typename T>
Elementwise<T> AffineTransformer<T>::inverse(const Var<T>& y, const Var<T>& params) {
  auto [log_s, t] = log_scale_and_shift(y, params, "AffineTransformer::inverse");
  return {(y - t) * exp(-log_s), -log_s};
}

template <typename T>
Transformed<T> AffineTransformer<T>::fused_coupling_forward(const Var<T>& x, const Var<T>& params,
                                                            const Partition& partition) {
  return affine_coupling_tanh(x, params, partition);
}

// The op itself, its plain form and its gradcheck are in autograd/ (ops_affine_coupling.*); the
// partition only names the channels.
template <typename T>
Transformed<T> affine_coupling_tanh(const Var<T>& x, const Var<T>& h, const Partition& partition) {
  if (partition.is_masked())
    throw std::invalid_argument("affine_coupling_tanh: needs a split partition, got " +
                                partition.name());
  if (x.dim() < 2 || x.shape()[1] % 2 != 0)
    throw std::invalid_argument("affine_coupling_tanh: input " + shape_str(x.shape()) +
                                " is not (B, C, ...) with C even");
  const std::size_t c = x.shape()[1], k = c / 2;
  CouplingChannels channels;
  for (std::size_t j = 0; j < k; ++j) {
    channels.conditioning.push_back(partition.conditioning_channel(j, c));
    channels.transformed.push_back(partition.transformed_channel(j, c));
  }
  AffineCouplingOutput<T> out = fz::affine_coupling_tanh(x, h, channels);
  return {out.value, out.logdet};
}

#define FZ_INSTANTIATE(T)                                                                      \
  template class AffineTransformer<T>;                                                         \
  template Transformed<T> affine_coupling_tanh<T>(const Var<T>&, const Var<T>&, const Partition&);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
