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
// the same tensors.
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
  std::size_t step_ = 0;
};

extern template class TrainSnapshot<float>;
extern template class TrainSnapshot<double>;

}  // namespace fz
