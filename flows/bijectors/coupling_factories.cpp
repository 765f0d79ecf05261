// flows/bijectors/coupling_factories.cpp — NICE, RealNVP and Glow couplings from parts.
#include "flows/bijectors/coupling_factories.hpp"

#include <stdexcept>
#include <string>

#include "flows/bijectors/actnorm.hpp"
#include "flows/bijectors/invertible_conv1x1.hpp"
#include "flows/conditioners/glow_net.hpp"
#include "flows/conditioners/mlp.hpp"
#include "flows/conditioners/resnet.hpp"
#include "flows/transformers/additive.hpp"
#include "flows/transformers/affine.hpp"
#include "flows/transformers/sigmoid_affine.hpp"

namespace fz {

template <typename T>
std::shared_ptr<Coupling<T>> make_mlp_additive_coupling(std::size_t features, bool parity, std::size_t hidden,
                                                        std::size_t n_hidden, Rng& rng, bool zero_init_last) {
  const Partition p{PartitionKind::EvenOdd, parity};
  auto net = std::make_shared<MLP<T>>(p.conditioner_in_channels(features), hidden, n_hidden,
                                      p.transformed_channels(features), rng, zero_init_last);
  return std::make_shared<Coupling<T>>(features, p, net, std::make_shared<AdditiveTransformer<T>>());
}

template <typename T>
std::shared_ptr<Coupling<T>> make_resnet_additive_coupling(std::size_t channels, Partition partition,
                                                           std::size_t features, std::size_t blocks, Rng& rng,
                                                           bool weight_norm) {
  auto net = std::make_shared<ResNetConditioner<T>>(partition.conditioner_in_channels(channels), features, blocks,
                                                    partition.transformed_channels(channels), rng, weight_norm, true);
  return std::make_shared<Coupling<T>>(channels, partition, net, std::make_shared<AdditiveTransformer<T>>());
}

template <typename T>
std::shared_ptr<Coupling<T>> make_resnet_affine_coupling(std::size_t channels, Partition partition,
                                                         std::size_t features, std::size_t blocks, Rng& rng,
                                                         bool weight_norm, bool learned_scale) {
  const std::size_t k = partition.transformed_channels(channels);
  auto net = std::make_shared<ResNetConditioner<T>>(partition.conditioner_in_channels(channels), features, blocks,
                                                    2 * k, rng, weight_norm, true);
  return std::make_shared<Coupling<T>>(channels, partition, net,
                                       std::make_shared<AffineTransformer<T>>(k, learned_scale));
}

template <typename T>
std::shared_ptr<Coupling<T>> make_mlp_affine_coupling(std::size_t features, bool parity, std::size_t hidden,
                                                      std::size_t n_hidden, Rng& rng, bool learned_scale,
                                                      bool zero_init_last) {
  const Partition p{PartitionKind::EvenOdd, parity};
  const std::size_t k = p.transformed_channels(features);
  auto net = std::make_shared<MLP<T>>(p.conditioner_in_channels(features), hidden, n_hidden, 2 * k, rng,
                                      zero_init_last);
  return std::make_shared<Coupling<T>>(features, p, net, std::make_shared<AffineTransformer<T>>(k, learned_scale));
}

template <typename T>
std::shared_ptr<Coupling<T>> make_glow_coupling(std::size_t channels, std::size_t hidden, Rng& rng, bool affine) {
  if (channels < 2 || channels % 2 != 0)
    throw std::invalid_argument("make_glow_coupling: channels must be even and >= 2, got " + std::to_string(channels));
  const Partition p{PartitionKind::ChannelHalves, false};
  // affine: shift and pre-scale for each of the C/2 transformed channels; additive: a shift.
  auto net = std::make_shared<GlowNet<T>>(channels / 2, affine ? channels : channels / 2, hidden, rng);
  std::shared_ptr<Transformer<T>> tau;
  if (affine)
    tau = std::make_shared<SigmoidAffineTransformer<T>>();
  else
    tau = std::make_shared<AdditiveTransformer<T>>();
  return std::make_shared<Coupling<T>>(channels, p, net, tau);
}

template <typename T>
std::shared_ptr<Chain<T>> glow_step(std::size_t channels, std::size_t hidden, Rng& rng, bool lu, bool affine) {
  auto step = std::make_shared<Chain<T>>();
  step->add(std::make_shared<ActNorm<T>>(channels));
  if (lu)
    step->add(std::make_shared<InvConv1x1LU<T>>(channels, rng));
  else
    step->add(std::make_shared<InvConv1x1<T>>(channels, rng));
  step->add(make_glow_coupling<T>(channels, hidden, rng, affine));
  return step;
}

#define FZ_INSTANTIATE(T)                                                                                          \
  template std::shared_ptr<Coupling<T>> make_mlp_additive_coupling<T>(std::size_t, bool, std::size_t, std::size_t, \
                                                                      Rng&, bool);                                 \
  template std::shared_ptr<Coupling<T>> make_resnet_additive_coupling<T>(std::size_t, Partition, std::size_t,     \
                                                                         std::size_t, Rng&, bool);                 \
  template std::shared_ptr<Coupling<T>> make_resnet_affine_coupling<T>(std::size_t, Partition, std::size_t,       \
                                                                       std::size_t, Rng&, bool, bool);             \
  template std::shared_ptr<Coupling<T>> make_mlp_affine_coupling<T>(std::size_t, bool, std::size_t, std::size_t,   \
                                                                    Rng&, bool, bool);                             \
  template std::shared_ptr<Coupling<T>> make_glow_coupling<T>(std::size_t, std::size_t, Rng&, bool);               \
  template std::shared_ptr<Chain<T>> glow_step<T>(std::size_t, std::size_t, Rng&, bool, bool);
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
