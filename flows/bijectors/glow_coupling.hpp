// flows/bijectors/glow_coupling.hpp — Glow's coupling layer and the Glow flow step.
//
// x = (x_a, x_b): the first and second halves of the channels (channel_halves). x_a passes
// unchanged and conditions x_b through h = GlowNet(x_a) (flows/conditioners/glow_net.hpp),
// whose last conv is zero-initialised.
//   affine:   h has C channels; even channels = shift, odd = pre-scale (interleaved_channels);
//             scale = sigmoid(pre + 2)
//             forward  y_b = (x_b + shift) * scale      log|det J| = sum log scale
//                                                        (= sum logsigmoid(pre + 2), stable)
//             inverse  x_b = y_b / scale - shift        log|det J| = -sum log scale
//             At initialisation h = 0, so y_b = x_b * sigmoid(2) (about 0.88 x_b).
//   additive: h has C/2 channels;  y_b = x_b + h,  x_b = y_b - h,  log|det J| = 0.
// Inputs are (B, C, H, W) with C even.
//
// glow_step: one step of Glow's flow, ActNorm -> invertible 1x1 conv (LU or plain) ->
// coupling (affine or additive), as a Chain with children "0", "1", "2".
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "flows/bijector.hpp"
#include "flows/conditioners/glow_net.hpp"
#include "tensor/random.hpp"

namespace fz {

template <typename T>
class GlowCoupling : public Bijector<T> {
 public:
  // channels: C of the input (even); hidden: the conditioner's width (Glow: 512, glow-fmnist: 128).
  GlowCoupling(std::size_t channels, std::size_t hidden, Rng& rng, bool affine = true);
  std::string type_name() const override {
    return affine_ ? "GlowCoupling(affine)" : "GlowCoupling(additive)";
  }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  bool affine() const { return affine_; }
  std::size_t channels() const { return channels_; }
  // The conditioner, registered as child "net".
  const std::shared_ptr<GlowNet<T>>& net() const { return net_; }

 private:
  std::size_t channels_;
  bool affine_;
  std::shared_ptr<GlowNet<T>> net_;
};

// ActNorm(C) -> InvConv1x1LU(C) (or InvConv1x1(C) if !lu) -> GlowCoupling(C, hidden, affine).
template <typename T>
std::shared_ptr<Chain<T>> glow_step(std::size_t channels, std::size_t hidden, Rng& rng,
                                    bool lu = true, bool affine = true);

extern template class GlowCoupling<float>;
extern template class GlowCoupling<double>;

}  // namespace fz
