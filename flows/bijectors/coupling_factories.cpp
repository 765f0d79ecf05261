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

// Every factory whose conditioner zero-initialises its last layer sets that layer's bias to the
// transformer's identity_output (start_at_identity, flows/transformers/transformer.hpp), so the
// coupling starts as the identity map whatever its transformer.

namespace {

template <typename T>
std::size_t net_outputs(const std::shared_ptr<Transformer<T>>& transformer, std::size_t k, const char* who) {
  if (!transformer) throw std::invalid_argument(std::string(who) + ": null transformer");
  return transformer->parameters_per_element() * k;
}

}  // namespace

template <typename T>
std::shared_ptr<Coupling<T>> make_mlp_coupling(std::size_t features, bool parity, std::size_t hidden,
                                               std::size_t n_hidden, Rng& rng, std::shared_ptr<Transformer<T>> transformer,
                                               bool zero_init_last) {
  const Partition p{PartitionKind::EvenOdd, parity};
  const std::size_t out = net_outputs(transformer, p.transformed_channels(features), "make_mlp_coupling");
  auto net = std::make_shared<MLP<T>>(p.conditioner_in_channels(features), hidden, n_hidden, out, rng, zero_init_last);
  if (zero_init_last) start_at_identity(net->layers().back()->bias(), *transformer, p.transformed_channels(features));
  return std::make_shared<Coupling<T>>(features, p, net, std::move(transformer));
}

template <typename T>
std::shared_ptr<Coupling<T>> make_resnet_coupling(std::size_t channels, Partition partition, std::size_t features,
                                                  std::size_t blocks, Rng& rng, bool weight_norm,
                                                  std::shared_ptr<Transformer<T>> transformer) {
  const std::size_t out = net_outputs(transformer, partition.transformed_channels(channels), "make_resnet_coupling");
  auto net = std::make_shared<ResNetConditioner<T>>(partition.conditioner_in_channels(channels), features, blocks, out,
                                                    rng, weight_norm, true);
  start_at_identity(net->conv_out().parameter("bias"), *transformer, partition.transformed_channels(channels));
  return std::make_shared<Coupling<T>>(channels, partition, net, std::move(transformer));
}

template <typename T>
std::shared_ptr<Coupling<T>> make_glow_coupling(std::size_t channels, std::size_t hidden, Rng& rng,
                                                std::shared_ptr<Transformer<T>> transformer) {
  if (channels < 2 || channels % 2 != 0)
    throw std::invalid_argument("make_glow_coupling: channels must be even and >= 2, got " + std::to_string(channels));
  const Partition p{PartitionKind::ChannelHalves, false};
  // Glow affine: shift and pre-scale for each of the C/2 transformed channels; additive: a shift.
  auto net = std::make_shared<GlowNet<T>>(channels / 2, net_outputs(transformer, channels / 2, "make_glow_coupling"),
                                          hidden, rng);
  start_at_identity(net->zero_conv().parameter("bias"), *transformer, channels / 2);
  return std::make_shared<Coupling<T>>(channels, p, net, std::move(transformer));
}

template <typename T>
std::shared_ptr<Chain<T>> glow_step(std::size_t channels, std::size_t hidden, Rng& rng, bool lu,
                                    std::shared_ptr<Transformer<T>> transformer) {
  auto step = std::make_shared<Chain<T>>();
  step->add(std::make_shared<ActNorm<T>>(channels));
  if (lu)
    step->add(std::make_shared<InvConv1x1LU<T>>(channels, rng));
  else
    step->add(std::make_shared<InvConv1x1<T>>(channels, rng));
  step->add(make_glow_coupling<T>(channels, hidden, rng, std::move(transformer)));
  return step;
}

template <typename T>
std::shared_ptr<Coupling<T>> make_gated_coupling(std::size_t channels, Partition partition,
                                                 const GatedResNetOptions& options, Rng& rng,
                                                 std::shared_ptr<Transformer<T>> transformer) {
  const std::size_t k = partition.transformed_channels(channels);
  const std::size_t out = net_outputs(transformer, k, "make_gated_coupling");
  auto net = std::make_shared<GatedResNetConditioner<T>>(partition.conditioner_in_channels(channels), out, options, rng);
  start_at_identity(net->proj_out().parameter("bias"), *transformer, k);
  return std::make_shared<Coupling<T>>(channels, partition, net, std::move(transformer));
}

template <typename T>
std::shared_ptr<Coupling<T>> make_mlp_additive_coupling(std::size_t features, bool parity, std::size_t hidden,
                                                        std::size_t n_hidden, Rng& rng, bool zero_init_last) {
  return make_mlp_coupling<T>(features, parity, hidden, n_hidden, rng, std::make_shared<AdditiveTransformer<T>>(),
                              zero_init_last);
}

template <typename T>
std::shared_ptr<Coupling<T>> make_resnet_additive_coupling(std::size_t channels, Partition partition,
                                                           std::size_t features, std::size_t blocks, Rng& rng,
                                                           bool weight_norm) {
  return make_resnet_coupling<T>(channels, partition, features, blocks, rng, weight_norm,
                                 std::make_shared<AdditiveTransformer<T>>());
}

template <typename T>
std::shared_ptr<Coupling<T>> make_resnet_affine_coupling(std::size_t channels, Partition partition,
                                                         std::size_t features, std::size_t blocks, Rng& rng,
                                                         bool weight_norm, bool learned_scale) {
  auto tau = std::make_shared<AffineTransformer<T>>(partition.transformed_channels(channels), learned_scale);
  return make_resnet_coupling<T>(channels, partition, features, blocks, rng, weight_norm, tau);
}

template <typename T>
std::shared_ptr<Coupling<T>> make_mlp_affine_coupling(std::size_t features, bool parity, std::size_t hidden,
                                                      std::size_t n_hidden, Rng& rng, bool learned_scale,
                                                      bool zero_init_last) {
  auto tau = std::make_shared<AffineTransformer<T>>(features / 2, learned_scale);
  return make_mlp_coupling<T>(features, parity, hidden, n_hidden, rng, tau, zero_init_last);
}

template <typename T>
std::shared_ptr<Coupling<T>> make_glow_coupling(std::size_t channels, std::size_t hidden, Rng& rng, bool affine) {
  std::shared_ptr<Transformer<T>> tau;
  if (affine)
    tau = std::make_shared<SigmoidAffineTransformer<T>>();
  else
    tau = std::make_shared<AdditiveTransformer<T>>();
  return make_glow_coupling<T>(channels, hidden, rng, tau);
}

template <typename T>
std::shared_ptr<Chain<T>> glow_step(std::size_t channels, std::size_t hidden, Rng& rng, bool lu, bool affine) {
  std::shared_ptr<Transformer<T>> tau;
  if (affine)
    tau = std::make_shared<SigmoidAffineTransformer<T>>();
  else
    tau = std::make_shared<AdditiveTransformer<T>>();
  return glow_step<T>(channels, hidden, rng, lu, tau);
}

#define FZ_INSTANTIATE(T)                                                                                          \
  template std::shared_ptr<Coupling<T>> make_mlp_coupling<T>(std::size_t, bool, std::size_t, std::size_t, Rng&,    \
                                                             std::shared_ptr<Transformer<T>>, bool);               \
  template std::shared_ptr<Coupling<T>> make_resnet_coupling<T>(std::size_t, Partition, std::size_t, std::size_t, \
                                                                Rng&, bool, std::shared_ptr<Transformer<T>>);      \
  template std::shared_ptr<Coupling<T>> make_glow_coupling<T>(std::size_t, std::size_t, Rng&,                      \
                                                              std::shared_ptr<Transformer<T>>);                    \
  template std::shared_ptr<Chain<T>> glow_step<T>(std::size_t, std::size_t, Rng&, bool,                            \
                                                  std::shared_ptr<Transformer<T>>);                                \
  template std::shared_ptr<Coupling<T>> make_gated_coupling<T>(std::size_t, Partition, const GatedResNetOptions&, \
                                                               Rng&, std::shared_ptr<Transformer<T>>);            \
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
