// flows/bijectors/additive_coupling.cpp — NICE additive coupling (vectors and images).
#include "flows/bijectors/additive_coupling.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "flows/conditioners/mlp.hpp"
#include "flows/conditioners/resnet.hpp"

namespace fz {

template <typename T>
AdditiveCoupling<T>::AdditiveCoupling(std::size_t channels, Partition partition,
                                      std::shared_ptr<Layer<T>> net)
    : channels_(channels), partition_(partition) {
  if (!net) throw std::invalid_argument("AdditiveCoupling: null conditioner network");
  if (partition.kind != PartitionKind::Checkerboard && (channels == 0 || channels % 2 != 0))
    throw std::invalid_argument("AdditiveCoupling: " + partition.name() +
                                " needs an even, positive number of channels, got " +
                                std::to_string(channels));
  net_ = this->register_module("net", std::move(net));
}

template <typename T>
Var<T> AdditiveCoupling<T>::apply(const Var<T>& x, T sign, const char* who) {
  partition_.check_shape(x.shape(), who);
  if (x.shape()[1] != channels_)
    throw std::invalid_argument(std::string(who) + ": built for " + std::to_string(channels_) +
                                " channels, got input " + shape_str(x.shape()));
  if (partition_.is_masked()) {
    const Tensor<T> m = partition_.mask<T>(x.shape()[2], x.shape()[3]);
    Tensor<T> keep_out = add_scalar(mul_scalar(m, T(-sign)), sign);  // sign * (1 - mask)
    Var<T> shift = net_->forward(partition_.masked_conditioner_input(x, m));
    return x + shift * Var<T>(std::move(keep_out));
  }
  auto [a, b] = partition_.split(x);
  Var<T> shift = net_->forward(a);
  return partition_.merge(a, sign > 0 ? b + shift : b - shift);
}

template <typename T>
Transformed<T> AdditiveCoupling<T>::forward(const Var<T>& x) {
  return {apply(x, T(1), "AdditiveCoupling::forward"), zero_logdet<T>(x.shape()[0])};
}

template <typename T>
Transformed<T> AdditiveCoupling<T>::inverse(const Var<T>& y) {
  return {apply(y, T(-1), "AdditiveCoupling::inverse"), zero_logdet<T>(y.shape()[0])};
}

template <typename T>
std::shared_ptr<AdditiveCoupling<T>> make_mlp_additive_coupling(std::size_t features, bool parity,
                                                                std::size_t hidden,
                                                                std::size_t n_hidden, Rng& rng,
                                                                bool zero_init_last) {
  Partition p{PartitionKind::EvenOdd, parity};
  auto net = std::make_shared<MLP<T>>(p.conditioner_in_channels(features), hidden, n_hidden,
                                      p.transformed_channels(features), rng, zero_init_last);
  return std::make_shared<AdditiveCoupling<T>>(features, p, net);
}

template <typename T>
std::shared_ptr<AdditiveCoupling<T>> make_resnet_additive_coupling(std::size_t channels,
                                                                   Partition partition,
                                                                   std::size_t features,
                                                                   std::size_t blocks, Rng& rng,
                                                                   bool weight_norm) {
  auto net = std::make_shared<ResNetConditioner<T>>(partition.conditioner_in_channels(channels),
                                                    features, blocks,
                                                    partition.transformed_channels(channels), rng,
                                                    weight_norm, true);
  return std::make_shared<AdditiveCoupling<T>>(channels, partition, net);
}

#define FZ_INSTANTIATE(T)                                                                   \
  template class AdditiveCoupling<T>;                                                       \
  template std::shared_ptr<AdditiveCoupling<T>> make_mlp_additive_coupling<T>(              \
      std::size_t, bool, std::size_t, std::size_t, Rng&, bool);                             \
  template std::shared_ptr<AdditiveCoupling<T>> make_resnet_additive_coupling<T>(           \
      std::size_t, Partition, std::size_t, std::size_t, Rng&, bool);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
