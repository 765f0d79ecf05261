// flows/bijectors/coupling_factories.hpp — the couplings of NICE, RealNVP and Glow as
// configurations of Coupling (flows/bijectors/coupling.hpp): which partition, which conditioner
// network, which transformer. Each builds its net first (the same random draws, in the same
// order, as the per-family classes these replace) and keeps the parameter names "net.*" and
// "scale" their checkpoints use.
//
//   make_mlp_additive_coupling    NICE: EvenOdd, MLP(D/2 -> hidden (x n_hidden, ReLU) -> D/2),
//                                 AdditiveTransformer (nice-fmnist: 784, 1000, 5)
//   make_resnet_additive_coupling additive with a ResNetConditioner (checkerboard or channel halves)
//   make_resnet_affine_coupling   RealNVP images: ResNetConditioner(conditioner_in, features,
//                                 blocks, 2k), zero last conv, AffineTransformer with learned
//                                 scale (realnvp-fmnist: features 32, blocks 2)
//   make_mlp_affine_coupling      vectors: EvenOdd, MLP(D/2 -> hidden (x n_hidden) -> D),
//                                 AffineTransformer (toy-realnvp: 2, 64, 2, log_s = tanh(s),
//                                 the fused affine_coupling_tanh forward)
//   make_glow_coupling            Glow: ChannelHalves, GlowNet(C/2 -> hidden -> C or C/2),
//                                 SigmoidAffineTransformer (affine) or AdditiveTransformer
//   glow_step                     ActNorm -> invertible 1x1 conv (LU or plain) -> Glow coupling,
//                                 a Chain with children "0", "1", "2"
// Each is one of the three general forms below with its family's transformer; the presets use
// the general forms with the transformer named by PresetConfig::transformer
// (flows/transformers/registry.hpp). The net outputs P * k channels for the transformer's P.
//   make_mlp_coupling     EvenOdd, MLP(D/2 -> hidden (x n_hidden) -> P * D/2), any transformer
//   make_resnet_coupling  any partition, ResNetConditioner(..., P * k), zero last conv
//   make_glow_coupling    ChannelHalves, GlowNet(C/2 -> hidden -> P * C/2), zero last conv
//   make_gated_coupling   any partition, GatedResNetConditioner(..., P * k) (Flow++), zero last conv
#pragma once

#include <cstddef>
#include <memory>

#include "coupling.hpp"
#include "../conditioners/gated_resnet.hpp"
#include "../../tensor/random.hpp"

namespace fz {

template <typename T>
std::shared_ptr<Coupling<T>> make_mlp_coupling(std::size_t features, bool parity, std::size_t hidden,
                                               std::size_t n_hidden, Rng& rng, std::shared_ptr<Transformer<T>> transformer,
                                               bool zero_init_last = false);

template <typename T>
std::shared_ptr<Coupling<T>> make_resnet_coupling(std::size_t channels, Partition partition, std::size_t features,
                                                  std::size_t blocks, Rng& rng, bool weight_norm,
                                                  std::shared_ptr<Transformer<T>> transformer);

template <typename T>
std::shared_ptr<Coupling<T>> make_glow_coupling(std::size_t channels, std::size_t hidden, Rng& rng,
                                                std::shared_ptr<Transformer<T>> transformer);

template <typename T>
std::shared_ptr<Chain<T>> glow_step(std::size_t channels, std::size_t hidden, Rng& rng, bool lu,
                                    std::shared_ptr<Transformer<T>> transformer);

// Flow++'s coupling: `partition` of `channels`, the gated residual conditioner sized by
// `options` (its image size is the coupling input's), `transformer` (flowpp: the logistic mixture).
template <typename T>
std::shared_ptr<Coupling<T>> make_gated_coupling(std::size_t channels, Partition partition,
                                                 const GatedResNetOptions& options, Rng& rng,
                                                 std::shared_ptr<Transformer<T>> transformer);

template <typename T>
std::shared_ptr<Coupling<T>> make_mlp_additive_coupling(std::size_t features, bool parity, std::size_t hidden,
                                                        std::size_t n_hidden, Rng& rng, bool zero_init_last = false);

template <typename T>
std::shared_ptr<Coupling<T>> make_resnet_additive_coupling(std::size_t channels, Partition partition,
                                                           std::size_t features, std::size_t blocks, Rng& rng,
                                                           bool weight_norm = false);

template <typename T>
std::shared_ptr<Coupling<T>> make_resnet_affine_coupling(std::size_t channels, Partition partition,
                                                         std::size_t features, std::size_t blocks, Rng& rng,
                                                         bool weight_norm = false, bool learned_scale = true);

template <typename T>
std::shared_ptr<Coupling<T>> make_mlp_affine_coupling(std::size_t features, bool parity, std::size_t hidden,
                                                      std::size_t n_hidden, Rng& rng, bool learned_scale = false,
                                                      bool zero_init_last = false);

// channels: C of the (B, C, H, W) input, even; hidden: the net's width (Glow 512, glow-fmnist 128).
template <typename T>
std::shared_ptr<Coupling<T>> make_glow_coupling(std::size_t channels, std::size_t hidden, Rng& rng,
                                                bool affine = true);

template <typename T>
std::shared_ptr<Chain<T>> glow_step(std::size_t channels, std::size_t hidden, Rng& rng, bool lu = true,
                                    bool affine = true);

}  // namespace fz
