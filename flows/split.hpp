// flows/split.hpp — multi-scale factor-out (RealNVP, Glow).
//
// Split keeps the first half of the channels for the next scale and "factors out" the second
// half z: it leaves the flow and is scored right here. RealNVP scores z under a standard
// normal; Glow under a Gaussian whose mean and log-sd are a zero-initialised conv3x3 of the
// kept half (even output channels = mean, odd = log-sd), so at initialisation it is N(0, I).
// The partition itself has log|det J| = 0; what Split adds to the likelihood is log p(z | kept).
#pragma once

#include <string>

#include "../autograd/nn/module.hpp"
#include "../autograd/var.hpp"
#include "../tensor/random.hpp"
#include "distributions/distribution.hpp"

namespace fz {

template <typename T>
struct SplitOutput {
  Var<T> kept;      // (B, C/2, H, W): continues through the flow
  Var<T> z;         // (B, C/2, H, W): factored out
  Var<T> log_prob;  // (B,): log p(z | kept)
};

template <typename T>
class Split : public Module<T> {
 public:
  // `channels` = C of the input; learned_prior chooses Glow's conditional Gaussian.
  Split(std::size_t channels, bool learned_prior);
  std::string type_name() const override { return learned_prior_ ? "Split(learned prior)" : "Split"; }

  SplitOutput<T> forward(const Var<T>& x);
  // Concatenates kept and z back into x.
  Var<T> inverse(const Var<T>& kept, const Var<T>& z);
  // Draws z given the kept half, at temperature tau.
  Tensor<T> sample_z(const Var<T>& kept, T temperature, Rng& rng);
  // log p(z | kept) without the partition (used when decoding given latents).
  Var<T> log_prob(const Var<T>& kept, const Var<T>& z);
  // The same three with the prior's mean and log-sd moved by `shift` (z's shape, per sample): a
  // class-conditional model's per-class bias (flows/class_prior.hpp). An undefined shift is none.
  SplitOutput<T> forward(const Var<T>& x, const GaussianShift<T>& shift);
  Tensor<T> sample_z(const Var<T>& kept, T temperature, Rng& rng, const GaussianShift<T>& shift);
  Var<T> log_prob(const Var<T>& kept, const Var<T>& z, const GaussianShift<T>& shift);

 private:
  std::pair<Var<T>, Var<T>> prior_params(const Var<T>& kept);
  std::size_t channels_;
  bool learned_prior_;
  Var<T> weight_, bias_;
};

extern template class Split<float>;
extern template class Split<double>;

}  // namespace fz
