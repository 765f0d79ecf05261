// flows/bijectors/affine_coupling.cpp — RealNVP affine coupling (vectors and images).
#include "flows/bijectors/affine_coupling.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "flows/channel_split.hpp"
#include "flows/conditioners/mlp.hpp"
#include "flows/conditioners/resnet.hpp"

namespace fz {

template <typename T>
AffineCoupling<T>::AffineCoupling(std::size_t channels, Partition partition,
                                  std::shared_ptr<Layer<T>> net, bool learned_scale)
    : channels_(channels),
      transformed_(partition.transformed_channels(channels)),
      partition_(partition),
      learned_scale_(learned_scale) {
  if (!net) throw std::invalid_argument("AffineCoupling: null conditioner network");
  if (channels == 0 || (partition.kind != PartitionKind::Checkerboard && channels % 2 != 0))
    throw std::invalid_argument("AffineCoupling: " + partition.name() +
                                " needs an even, positive number of channels, got " +
                                std::to_string(channels));
  net_ = this->register_module("net", std::move(net));
  if (learned_scale) scale_ = this->register_parameter("scale", Tensor<T>({transformed_}, T(1)));
}

template <typename T>
std::pair<Var<T>, Var<T>> AffineCoupling<T>::scale_shift(const Var<T>& cond,
                                                         const Tensor<T>* keep_out) const {
  Var<T> h = net_->forward(cond);
  if (h.dim() < 2 || h.shape()[1] != 2 * transformed_)
    throw std::invalid_argument("AffineCoupling: the net must output " +
                                std::to_string(2 * transformed_) + " channels, got " +
                                shape_str(h.shape()));
  auto [s, t] = channel_halves(h);
  Var<T> log_s = tanh(s);
  if (learned_scale_) {
    Shape bs(h.dim(), 1);  // (1, k, 1, 1) for images, (1, k) for vectors
    bs[1] = transformed_;
    log_s = log_s * reshape(scale_, bs);
  }
  if (keep_out) {
    Var<T> k(*keep_out);
    log_s = log_s * k;
    t = t * k;
  }
  return {log_s, t};
}

template <typename T>
Transformed<T> AffineCoupling<T>::forward(const Var<T>& x) {
  partition_.check_shape(x.shape(), "AffineCoupling::forward");
  if (x.shape()[1] != channels_)
    throw std::invalid_argument("AffineCoupling::forward: built for " + std::to_string(channels_) +
                                " channels, got input " + shape_str(x.shape()));
  if (partition_.is_masked()) {
    const Tensor<T> m = partition_.mask<T>(x.shape()[2], x.shape()[3]);
    const Tensor<T> keep_out = add_scalar(mul_scalar(m, T(-1)), T(1));  // 1 - mask
    auto [log_s, t] = scale_shift(partition_.masked_conditioner_input(x, m), &keep_out);
    return {x * exp(log_s) + t, sum_per_sample(log_s)};
  }
  auto [a, b] = partition_.split(x);
  auto [log_s, t] = scale_shift(a, nullptr);
  return {partition_.merge(a, b * exp(log_s) + t), sum_per_sample(log_s)};
}

template <typename T>
Transformed<T> AffineCoupling<T>::inverse(const Var<T>& y) {
  partition_.check_shape(y.shape(), "AffineCoupling::inverse");
  if (y.shape()[1] != channels_)
    throw std::invalid_argument("AffineCoupling::inverse: built for " + std::to_string(channels_) +
                                " channels, got input " + shape_str(y.shape()));
  if (partition_.is_masked()) {
    const Tensor<T> m = partition_.mask<T>(y.shape()[2], y.shape()[3]);
    const Tensor<T> keep_out = add_scalar(mul_scalar(m, T(-1)), T(1));
    auto [log_s, t] = scale_shift(partition_.masked_conditioner_input(y, m), &keep_out);
    return {(y - t) * exp(-log_s), -sum_per_sample(log_s)};
  }
  auto [a, b] = partition_.split(y);
  auto [log_s, t] = scale_shift(a, nullptr);
  return {partition_.merge(a, (b - t) * exp(-log_s)), -sum_per_sample(log_s)};
}

template <typename T>
std::shared_ptr<AffineCoupling<T>> make_resnet_affine_coupling(std::size_t channels,
                                                               Partition partition,
                                                               std::size_t features,
                                                               std::size_t blocks, Rng& rng,
                                                               bool weight_norm,
                                                               bool learned_scale) {
  auto net = std::make_shared<ResNetConditioner<T>>(partition.conditioner_in_channels(channels),
                                                    features, blocks,
                                                    2 * partition.transformed_channels(channels),
                                                    rng, weight_norm, true);
  return std::make_shared<AffineCoupling<T>>(channels, partition, net, learned_scale);
}

template <typename T>
std::shared_ptr<AffineCoupling<T>> make_mlp_affine_coupling(std::size_t features, bool parity,
                                                            std::size_t hidden,
                                                            std::size_t n_hidden, Rng& rng,
                                                            bool learned_scale,
                                                            bool zero_init_last) {
  Partition p{PartitionKind::EvenOdd, parity};
  auto net = std::make_shared<MLP<T>>(p.conditioner_in_channels(features), hidden, n_hidden,
                                      2 * p.transformed_channels(features), rng, zero_init_last);
  return std::make_shared<AffineCoupling<T>>(features, p, net, learned_scale);
}

#define FZ_INSTANTIATE(T)                                                                      \
  template class AffineCoupling<T>;                                                            \
  template std::shared_ptr<AffineCoupling<T>> make_resnet_affine_coupling<T>(                  \
      std::size_t, Partition, std::size_t, std::size_t, Rng&, bool, bool);                     \
  template std::shared_ptr<AffineCoupling<T>> make_mlp_affine_coupling<T>(                     \
      std::size_t, bool, std::size_t, std::size_t, Rng&, bool, bool);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
