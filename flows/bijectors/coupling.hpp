// flows/bijectors/coupling.hpp — a coupling layer built from its three parts:
//   a Partition (flows/bijectors/partition.hpp): which entries condition (a) and which are
//     transformed (b);
//   a conditioner network (any Layer<T>, child module "net"): maps the conditioning part to
//     the transformer's parameters for every transformed element;
//   a Transformer (flows/transformers/transformer.hpp): the elementwise monotone map.
//
// Split partitions (EvenOdd, ChannelHalves):
//   forward  y = merge(a, tau(b; net(a)))            log|det J| = sum of tau's log-derivatives
//   inverse  x = merge(a, tau^{-1}(b; net(a)))       log|det J| = sum of tau^{-1}'s
// Checkerboard (a mask m, 1 on the conditioning pixels; no split):
//   params = net(concat(x * m, m))  (Partition::masked_conditioner_input)
//   y = x where m = 1, tau(x; params) where m = 0    log|det J| = sum of (1 - m) * log-derivatives
// so the conditioning pixels pass through bit-for-bit and add exactly 0 to the log-det.
//
// The net must output P * k channels (P = transformer.parameters_per_element(), k =
// partition.transformed_channels(channels)) in the transformer's layout (param_channel).
// The transformer's own parameters (RealNVP's "scale") are registered on the coupling under
// their own names — not as a child — so a coupling's checkpoint names are "scale" and "net.*"
// whatever transformer it holds. A transformer therefore must not have child modules or
// buffers (the constructor refuses one that does), and it does not see train()/eval().
//
// A transformer that also implements FusedSplitCoupling (flows/transformers/
// fused_split_coupling.hpp) has the forward of the partitions it fuses computed by its fused
// ops (the toy RealNVP's affine_coupling_tanh); everything else takes the generic path.
//
// The families' configurations (NICE, RealNVP, Glow) are in flows/bijectors/coupling_factories.hpp.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "../../autograd/nn/module.hpp"
#include "../../autograd/ops_keep_masked.hpp"  // keep_masked, the checkerboard blend
#include "../bijector.hpp"
#include "partition.hpp"
#include "../transformers/fused_split_coupling.hpp"
#include "../transformers/transformer.hpp"

namespace fz {

template <typename T>
class Coupling : public Bijector<T> {
 public:
  // `channels`: size of axis 1 of the input (features D of a vector, C of an image). The net
  // maps partition.conditioner_in_channels(channels) channels to P * transformed_channels.
  Coupling(std::size_t channels, Partition partition, std::shared_ptr<Layer<T>> net,
           std::shared_ptr<Transformer<T>> transformer);
  // "Coupling(<transformer>)", e.g. "Coupling(Affine)".
  std::string type_name() const override { return "Coupling(" + transformer_->type_name() + ")"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  const Partition& partition() const { return partition_; }
  const std::shared_ptr<Layer<T>>& net() const { return net_; }
  const std::shared_ptr<Transformer<T>>& transformer() const { return transformer_; }
  std::size_t channels() const { return channels_; }

 private:
  Transformed<T> apply(const Var<T>& x, bool forward, const char* who);
  // The net's output for the conditioner input `cond`, after checking its channel count.
  Var<T> conditioner_params(const Var<T>& cond, const char* who) const;
  Var<T> logdet_of(const Elementwise<T>& e, std::size_t batch, const Tensor<T>* keep) const;

  std::size_t channels_, transformed_;
  Partition partition_;
  std::shared_ptr<Layer<T>> net_;
  std::shared_ptr<Transformer<T>> transformer_;
  FusedSplitCoupling<T>* fused_ = nullptr;  // transformer_ itself, if it has a fused forward
};

extern template class Coupling<float>;
extern template class Coupling<double>;

}  // namespace fz
