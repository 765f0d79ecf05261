// flows/bijectors/affine_coupling.hpp — RealNVP's affine coupling layer.
//
// With the input divided by a Partition into a conditioning part a and a transformed part b,
// and h = net(a) having 2k channels (k = channels of b):
//   s = first k channels of h, t = last k channels of h            (s first, then t)
//   log_s = scale * tanh(s)     (scale: learned per transformed channel, "scale", init 1)
//   log_s = tanh(s)             (learned_scale = false: the 2-D toy)
//   forward:  y_a = x_a,  y_b = x_b * exp(log_s) + t        log|det J| = sum(log_s)
//   inverse:  x_a = y_a,  x_b = (y_b - t) * exp(-log_s)     log|det J| = -sum(log_s)
// Split partitions (EvenOdd vectors, ChannelHalves): net input = x_a (k channels), output 2k.
// Checkerboard: net input = concat(x * mask, mask) (C + 1 channels), output 2C; s and t are
// both multiplied by (1 - mask), so the conditioning pixels pass bit-for-bit unchanged and
// contribute 0 to the log-det. "scale" then has C entries.
// For images the per-channel scale broadcasts over H and W. The net is the child "net".
#pragma once

#include <memory>
#include <string>

#include "autograd/nn/module.hpp"
#include "flows/bijector.hpp"
#include "flows/bijectors/partition.hpp"
#include "tensor/random.hpp"

namespace fz {

template <typename T>
class AffineCoupling : public Bijector<T> {
 public:
  // `channels`: size of axis 1 of the input. The net maps partition.conditioner_in_channels(
  // channels) to 2 * partition.transformed_channels(channels) channels.
  AffineCoupling(std::size_t channels, Partition partition, std::shared_ptr<Layer<T>> net,
                 bool learned_scale = true);
  std::string type_name() const override { return "AffineCoupling"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

  const Partition& partition() const { return partition_; }
  const std::shared_ptr<Layer<T>>& net() const { return net_; }

 private:
  // log_s and t for the conditioning input (masked by (1 - mask) for checkerboard).
  std::pair<Var<T>, Var<T>> scale_shift(const Var<T>& cond, const Tensor<T>* keep_out) const;
  std::size_t channels_, transformed_;
  Partition partition_;
  bool learned_scale_;
  std::shared_ptr<Layer<T>> net_;
  Var<T> scale_;
};

// RealNVP image coupling: net = ResNetConditioner(conditioner_in, features, blocks, 2k),
// zero-initialised last conv, learned scale (realnvp-fmnist: features 32, blocks 2).
template <typename T>
std::shared_ptr<AffineCoupling<T>> make_resnet_affine_coupling(
    std::size_t channels, Partition partition, std::size_t features, std::size_t blocks, Rng& rng,
    bool weight_norm = false, bool learned_scale = true);

// Vector coupling on an EvenOdd partition: net = MLP(D/2 -> hidden (x n_hidden) -> D).
// toy-realnvp: features 2, hidden 64, n_hidden 2, learned_scale false (log_s = tanh(s)).
template <typename T>
std::shared_ptr<AffineCoupling<T>> make_mlp_affine_coupling(
    std::size_t features, bool parity, std::size_t hidden, std::size_t n_hidden, Rng& rng,
    bool learned_scale = false, bool zero_init_last = false);

// The forward transform of a split coupling with log_s = tanh(s) (learned_scale = false, the
// 2-D toy) as two ops instead of a chain of slices, reshapes, concats and elementwise ops. For
// x (B, C, rest...) divided by a split `partition` into a and b (k = C/2 channels each) and the
// net output h (B, 2k, rest...), s = h[:, :k], t = h[:, k:]:
//   value  = x with b replaced by b * exp(tanh(s)) + t       (op "affine_coupling")
//   logdet = per-sample sum of tanh(s)                       (op "affine_coupling_logdet")
// Equal to the unfused forward (split, tanh, exp, mul, add, merge, sum_per_sample).
template <typename T>
Transformed<T> affine_coupling_tanh(const Var<T>& x, const Var<T>& h, const Partition& partition);

extern template class AffineCoupling<float>;
extern template class AffineCoupling<double>;

}  // namespace fz
