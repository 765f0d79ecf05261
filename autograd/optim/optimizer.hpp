// autograd/optim/optimizer.hpp — Optimizer<T>: the base of SGD, Adam, AdamW and Adamax.
//
// An optimiser holds handles to a list of leaf parameters (usually module.parameters()),
// a learning rate and, per parameter, named state tensors ("momentum_buffer", "exp_avg", ...)
// plus a per-parameter step count (as PyTorch keeps state[p]["step"]: a parameter that
// received no gradient in some step is not updated and its count does not advance).
// step() updates every parameter whose gradient is defined, in place.
//
// Checkpoints: state_dict() returns "step" (number of step() calls) and, for parameter i,
// "state.<i>.step" and "state.<i>.<slot>" for each slot. load_state_dict() restores them; the
// parameter list must be the same (same order and shapes) as when the state was saved.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../nn/module.hpp"
#include "../var.hpp"

namespace fz {

template <typename T>
class Optimizer {
 public:
  // Throws std::invalid_argument for a negative lr, an undefined or non-leaf parameter, or a
  // parameter listed twice.
  Optimizer(std::vector<Var<T>> params, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual std::string type_name() const = 0;

  // One update of every parameter that has a gradient.
  void step();
  // Forgets every parameter's gradient.
  void zero_grad();

  double lr() const { return lr_; }
  // Schedules call this before step(): opt.set_lr(schedule.lr_at(opt.step_count())).
  void set_lr(double lr);
  // Number of step() calls so far (plus any count set by set_step_count).
  std::size_t step_count() const { return step_count_; }
  // Sets the run's step count without touching parameters or per-parameter state. A trainer
  // that skips a step or rolls its state back to an earlier snapshot (flows/train_snapshot.hpp)
  // keeps counting the batches it has consumed, so data order and schedule move on; the
  // per-parameter counts (Adam's bias corrections) stay those of the restored moments.
  void set_step_count(std::size_t n) { step_count_ = n; }
  const std::vector<Var<T>>& params() const { return params_; }
  // Gradient norms above this would break the optimiser's state although they are finite
  // (Adam's second moment holds g^2, which overflows T). A trainer that recovers from
  // divergence treats such a step like a non-finite gradient (flows/trainer.cpp). Default: no
  // limit.
  virtual double largest_safe_gradient_norm() const { return std::numeric_limits<double>::infinity(); }

  StateDict<T> state_dict() const;
  // The same entries, but the slots' tensors are the live ones, not copies: for reading or
  // writing them out (a checkpoint, a finiteness scan, a snapshot's copy) without holding the
  // state twice. Changed by the next step(); do not keep it.
  StateDict<T> state_view() const;
  // Throws std::invalid_argument for a missing entry or a shape mismatch; the optimiser is
  // unchanged when it throws.
  void load_state_dict(const StateDict<T>& state);

 protected:
  // Declares a per-parameter state slot, zero-initialised with each parameter's shape.
  // Returns the slot index for state(). Call in the subclass constructor.
  std::size_t add_state_slot(const std::string& name);
  Tensor<T>& state(std::size_t slot, std::size_t param) { return slots_[slot].tensors[param]; }

  // Updates parameter `i` (value in place) given its gradient; `t` is this parameter's step
  // number, 1 on its first update (for bias corrections and first-step initialisations).
  virtual void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad, std::size_t t) = 0;

  static void check_non_negative(double v, const char* what, const std::string& who);
  static void check_beta(double beta, const char* what, const std::string& who);

 private:
  struct Slot {
    std::string name;
    std::vector<Tensor<T>> tensors;  // one per parameter
  };

  std::vector<Var<T>> params_;
  double lr_;
  std::size_t step_count_ = 0;
  std::vector<std::size_t> param_steps_;
  std::vector<Slot> slots_;
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace fz
