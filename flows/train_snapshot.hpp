// flows/train_snapshot.hpp — an in-memory copy of everything a training step changes, to roll
// a diverged run back to (flows/trainer.cpp, divergence recovery).
//
// capture() copies the model's parameters and persistent buffers (ActNorm's "initialised"
// flag, batch-norm running statistics), the optimiser's state (moments and the per-parameter
// step counts behind Adam's bias corrections) and the Polyak/EMA shadows. restore() copies
// them back bit for bit, in place, so handles held elsewhere stay valid. The optimiser's run
// step count (Optimizer::step_count) is restored too; a trainer that wants the run to keep
// counting the batches it consumed sets it afterwards (Optimizer::set_step_count).
//
// Not captured: the trainer's RNG (dequantization noise keeps drawing fresh values) and the
// gradients (recomputed by the next step). The first capture allocates; later ones copy into
// the same tensors (the optimiser's and the averages' through their state_view(), so no second
// copy exists even for a moment).
//
// The two halves can be taken at different times: capture_model() copies only what a forward
// pass can change (parameters and buffers: ActNorm's initialisation, batch-norm statistics), and
// capture_optimizer() the rest, which only an update changes. The trainer keeps one full
// snapshot (the last good state) plus one model-only candidate taken before a step's forward,
// whose optimiser half is copied once the step has passed its checks, just before the update
// (flows/trainer.cpp): the state is held 1 + 1/3 times over (Adam), not twice. Every copy's
// buffers count as parameter state in tensor/memory_counter.hpp.
#pragma once

#include <cstddef>

#include "../autograd/nn/module.hpp"
#include "../autograd/optim/ema.hpp"
#include "../autograd/optim/optimizer.hpp"

namespace fz {

template <typename T>
class TrainSnapshot {
 public:
  // `step` = the number of steps done when captured (reported back by step()).
  void capture(const Module<T>& model, const Optimizer<T>& optimizer, const EMA<T>* ema, std::size_t step);
  // The model half alone; drops any optimiser half captured before (restore() then leaves the
  // optimiser and the averages as they are).
  void capture_model(const Module<T>& model, std::size_t step);
  // The optimiser half (moments, per-parameter steps, averages), added to a captured model half.
  // Throws std::logic_error when no model half is captured.
  void capture_optimizer(const Optimizer<T>& optimizer, const EMA<T>* ema);
  // Exchanges the model halves, steps and validity with `other` (no copying); the optimiser
  // halves stay where they are. How a checked candidate becomes the last good snapshot.
  void swap_model(TrainSnapshot& other);
  bool has_optimizer() const { return has_optimizer_; }
  // Throws std::logic_error when nothing was captured; std::invalid_argument when the model,
  // optimiser or EMA no longer match what was captured.
  void restore(Module<T>& model, Optimizer<T>& optimizer, EMA<T>* ema) const;

  // True when every captured value is finite. A state can turn non-finite without a
  // non-finite loss (Adam's second moment overflowing to inf under a huge but finite
  // gradient); the trainer never keeps such a capture as its last good state.
  bool all_finite() const;

  bool valid() const { return valid_; }
  void invalidate() { valid_ = false; }
  std::size_t step() const { return step_; }

 private:
  StateDict<T> model_, optimizer_, ema_;
  bool valid_ = false;
  bool has_optimizer_ = false;
  std::size_t step_ = 0;
};

extern template class TrainSnapshot<float>;
extern template class TrainSnapshot<double>;

}  // namespace fz
