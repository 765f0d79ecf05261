// flows/bijector.hpp — the Bijector interface every flow layer implements, and Chain, the
// composition of bijectors.
//
// DIRECTION CONVENTION (the one rule to remember when reading any file in flows/):
//   forward(x)  maps DATA toward the BASE distribution (the "normalizing" direction). It is
//               what log_prob uses:  log p(x) = log p_base(f(x)) + log|det df/dx|.
//   inverse(z)  maps a latent back to data. It is what sampling uses.
// Both return the output together with the per-sample log|det J| of the map they computed,
// a Var of shape (batch,). So inverse(forward(x)).value == x, and the two log-dets of a round
// trip sum to zero. A Chain's forward runs its layers in order and sums their log-dets; its
// inverse runs them backwards.
//
// Bijectors are Modules (named parameters and buffers, train/eval mode) templated on the
// element type: float for training, double for the conformance checks in tests/flows/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../autograd/nn/module.hpp"
#include "../autograd/var.hpp"

namespace fz {

// An output and the per-sample log|det J| of the map that produced it (shape (batch,)).
template <typename T>
struct Transformed {
  Var<T> value;
  Var<T> logdet;
};

template <typename T>
class Bijector : public Module<T> {
 public:
  // Data -> latent, with log|det d(out)/d(x)| per sample.
  virtual Transformed<T> forward(const Var<T>& x) = 0;
  // Latent -> data, with log|det d(out)/d(z)| per sample (the negative of forward's at the
  // matching point).
  virtual Transformed<T> inverse(const Var<T>& z) = 0;
  // Shape of forward's output for an input of shape `in` (squeeze changes it; most keep it).
  virtual Shape forward_shape(const Shape& in) const { return in; }
  virtual Shape inverse_shape(const Shape& out) const { return out; }
};

// A constant zero log-det for a batch of `batch` samples (volume-preserving layers).
template <typename T>
Var<T> zero_logdet(std::size_t batch);

// A (B,) log-det whose every entry is the 0-d `value` (differentiably): layers whose Jacobian
// is the same at every input (ActNorm, the invertible 1x1 convolutions).
template <typename T>
Var<T> constant_logdet(const Var<T>& value, std::size_t batch);

// Sums every axis but the first: (B, ...) -> (B,). Per-sample log-dets and log-probs.
template <typename T>
Var<T> sum_per_sample(const Var<T>& x);

enum class MemorySaving;   // flows/memory_saving.hpp
struct ReconstructionStats;

// Bijectors applied in sequence.
template <typename T>
class Chain : public Bijector<T> {
 public:
  Chain() = default;
  std::string type_name() const override { return "Chain"; }

  // Appends a layer (registered as child "<index>") and returns it with its own type.
  template <typename B>
  std::shared_ptr<B> add(std::shared_ptr<B> layer) {
    const std::string name = std::to_string(layers_.size());
    layers_.push_back(this->register_module(name, layer));
    return layer;
  }

  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& z) override;
  Shape forward_shape(const Shape& in) const override;
  Shape inverse_shape(const Shape& out) const override;

  std::size_t size() const { return layers_.size(); }
  const std::shared_ptr<Bijector<T>>& operator[](std::size_t i) const { return layers_[i]; }
  const std::vector<std::shared_ptr<Bijector<T>>>& layers() const { return layers_; }

  // How forward keeps its activations for the reverse pass (flows/memory_saving.hpp): none
  // (default), checkpoint (per layer) or invertible (rebuilt with inverse()).
  void set_memory_saving(MemorySaving mode);
  MemorySaving memory_saving() const { return memory_saving_; }
  // Invertible mode's reconstruction errors, accumulated over every backward (null otherwise).
  const std::shared_ptr<ReconstructionStats>& reconstruction_stats() const { return stats_; }

 private:
  std::vector<std::shared_ptr<Bijector<T>>> layers_;
  MemorySaving memory_saving_{};  // MemorySaving::none
  std::shared_ptr<ReconstructionStats> stats_;
};

extern template class Chain<float>;
extern template class Chain<double>;

}  // namespace fz
