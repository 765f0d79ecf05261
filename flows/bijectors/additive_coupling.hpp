// flows/bijectors/additive_coupling.hpp — NICE's additive coupling layer.
//
// With the input divided by a Partition into a conditioning part a and a transformed part b:
//   forward:  y_a = x_a,  y_b = x_b + m(x_a)          log|det J| = 0
//   inverse:  x_a = y_a,  x_b = y_b - m(y_a)          log|det J| = 0
// Split partitions (EvenOdd vectors, ChannelHalves): m = net(x_a), shaped like x_b.
// Checkerboard: y = x + (1 - mask) * net(concat(x * mask, mask)), net: C + 1 -> C channels;
// the conditioning pixels are returned bit-for-bit unchanged.
// The net is the child module "net".
#pragma once

#include <memory>
#include <string>

#include "autograd/nn/module.hpp"
#include "flows/bijector.hpp"
#include "flows/bijectors/partition.hpp"
#include "tensor/random.hpp"

namespace fz {

template <typename T>
class AdditiveCoupling : public Bijector<T> {
 public:
  // `channels`: size of axis 1 of the input (features D of a vector, C of an image). The net
  // maps partition.conditioner_in_channels(channels) to partition.transformed_channels(channels).
  AdditiveCoupling(std::size_t channels, Partition partition, std::shared_ptr<Layer<T>> net);
  std::string type_name() const override { return "AdditiveCoupling"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  const Partition& partition() const { return partition_; }
  const std::shared_ptr<Layer<T>>& net() const { return net_; }

 private:
  // sign = +1 forward, -1 inverse.
  Var<T> apply(const Var<T>& x, T sign, const char* who);
  std::size_t channels_;
  Partition partition_;
  std::shared_ptr<Layer<T>> net_;
};

// NICE's vector coupling: net = MLP(D/2 -> hidden (x n_hidden, ReLU) -> D/2) on an EvenOdd
// partition (nice-fmnist: features 784, hidden 1000, n_hidden 5, parity alternating).
template <typename T>
std::shared_ptr<AdditiveCoupling<T>> make_mlp_additive_coupling(
    std::size_t features, bool parity, std::size_t hidden, std::size_t n_hidden, Rng& rng,
    bool zero_init_last = false);

// Image coupling with a ResNetConditioner (checkerboard or channel halves).
template <typename T>
std::shared_ptr<AdditiveCoupling<T>> make_resnet_additive_coupling(
    std::size_t channels, Partition partition, std::size_t features, std::size_t blocks, Rng& rng,
    bool weight_norm = false);

extern template class AdditiveCoupling<float>;
extern template class AdditiveCoupling<double>;

}  // namespace fz
