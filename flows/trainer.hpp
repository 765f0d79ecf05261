// flows/trainer.hpp — maximum-likelihood training of a FlowModel.
//
// One step: (dequantize 8-bit images) -> loss = mean bits/dim (images) or mean negative
// log-likelihood in nats (continuous data, e.g. the 2-D toys) -> backward -> gradient norm
// (clipped if asked) -> learning rate = schedule (linear warmup) x the recovery scale ->
// optimiser step -> Polyak/EMA average update. The averages start from the parameters as the
// first forward leaves them (after ActNorm's data-dependent initialisation), not from the
// random initialisation.
//
// Divergence (flows/divergence_guard.hpp): a step whose loss or gradient norm is not finite,
// or whose loss is a spike, never updates the parameters. With DivergencePolicy::Stop it throws
// NonFiniteError naming the step. With Recover (the default) the trainer restores its last good
// snapshot (flows/train_snapshot.hpp: parameters, buffers, optimiser state, averages), multiplies
// the learning-rate scale by lr_factor, skips the batch and returns StepStats with `event` set;
// when the recovery budget is spent it restores the snapshot and throws NonFiniteError.
//
// Snapshots: at every step s with (s - 1) % snapshot_every == 0, and at every step while no
// good snapshot exists (the first step of a run or of a --resume), the model's parameters and
// buffers are copied before the forward pass; when that step's loss and gradient pass the
// checks, the optimiser state and averages (which forward and backward do not change) are
// copied too, still before the update, and the copy becomes "the last good snapshot". So the
// state is held once more, plus one more copy of the parameters (train_snapshot.hpp). Step counts: steps_done() counts every batch consumed, recovered ones
// included (data order, schedule and metrics move on); the per-parameter counts behind Adam's
// bias corrections are those of the restored moments.
//
// Data parallel (flows/collective.hpp): a Trainer built while current_collective() has several
// ranks makes rank 0's initial parameters everyone's (a broadcast), and each step takes the
// GLOBAL batch on every rank: the dequantization noise is drawn for the whole batch (so the
// generator stays in step with a single process's), the rank keeps its rows (rank_rows; the
// batch must divide evenly, so the mean of the ranks' means is the global mean), and after
// backward ONE allreduce over a flat buffer — every parameter's gradient in the optimiser's
// order, then the loss — turns the sums into global means. Every check after that (non-finite
// loss, spike, gradient norm, clipping) sees the same global numbers on every rank, so all ranks
// take the same decision. Evaluation splits each evaluation batch across the ranks and sums.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../autograd/optim/ema.hpp"
#include "../autograd/optim/optimizer.hpp"
#include "../autograd/optim/schedule.hpp"
#include "collective.hpp"
#include "divergence_guard.hpp"
#include "flow_model.hpp"
#include "train_snapshot.hpp"
#include "../tensor/random.hpp"

namespace fz {

class NonFiniteError : public std::runtime_error {
 public:
  NonFiniteError(std::size_t step, const std::string& what)
      : std::runtime_error("step " + std::to_string(step) + ": " + what), step_(step) {}
  std::size_t step() const { return step_; }

 private:
  std::size_t step_;
};

struct TrainerOptions {
  std::string optimizer = "adam";  // adam | adamax | adamw | sgd
  double lr = 1e-3;
  std::size_t warmup_steps = 0;    // linear warmup from 0 to lr
  // The decay after warmup (autograd/optim/schedule.hpp): constant | cosine | step.
  std::string schedule = "constant";
  std::size_t schedule_steps = 0;      // cosine: the step where lr_min is reached (warmup included)
  double lr_min = 0.0;                 // cosine: the final rate
  std::size_t schedule_step_every = 1000;  // step: lr x schedule_gamma every this many steps after warmup
  double schedule_gamma = 0.5;         // step
  double clip_grad_norm = 0.0;     // 0 = no clipping (the norm is still measured)
  double polyak_decay = 0.0;       // 0 = no parameter averaging; e.g. 0.999
  double weight_decay = 0.0;       // adamw only
  int bits = 8;                    // image bit depth for dequantization and bits/dim
  DivergenceOptions divergence;    // what counts as diverged and how to recover
  // none | checkpoint | invertible: how the model's chains keep activations for the backward
  // pass (flows/memory_saving.hpp); the Trainer sets it on the model.
  std::string memory_saving = "none";
};

// The learning-rate schedule the options describe; throws std::invalid_argument for an unknown
// name or inconsistent parameters (cosine: schedule_steps must exceed warmup_steps).
LrSchedule lr_schedule_from(const TrainerOptions& options);

struct StepStats {
  std::size_t step = 0;    // 1-based count of completed steps
  double loss = 0.0;       // bits/dim (images) or nats per sample (continuous data)
  double grad_norm = 0.0;  // global L2 norm before clipping
  double lr = 0.0;         // the rate used; after a recovery, the next step's (lowered) rate
  // Set only when this step diverged and was recovered (no update was made):
  std::string event;       // "recovered:<cause>", cause = nonfinite_loss | nonfinite_grad | loss_spike
                           // (| nonfinite_state from recover_state)
  std::string message;     // one line for the console
};

template <typename T>
class Trainer {
 public:
  Trainer(std::shared_ptr<FlowModel<T>> model, const TrainerOptions& options, std::uint64_t seed);

  // 8-bit images (B, C, H, W) or (B, D): dequantize, minimise mean bits/dim. With a variational
  // dequantizer on the model (FlowModel::dequantizer, flows/variational_dequantizer.hpp) the
  // loss is the bits/dim of the variational bound, log p(y) - log q(u | x), and evaluate_images
  // reports the same bound.
  StepStats step_images(const TensorU8& pixels);
  // Continuous data (B, ...): minimise mean negative log-likelihood in nats.
  StepStats step_continuous(const Tensor<T>& x);

  // Mean test bits/dim over `pixels` in batches (eval mode, no gradients, averaged parameters
  // if Polyak averaging is on), with one dequantization draw from a generator seeded `seed`.
  // `stop`, when given, is asked between batches; once it returns true the evaluation ends
  // early and returns NaN (how a signal interrupts a long final evaluation, cli/train.cpp).
  double evaluate_images(const TensorU8& pixels, std::size_t batch_size, std::uint64_t seed = 0,
                         const std::function<bool()>& stop = {});
  // Mean negative log-likelihood (nats) of continuous data; `stop` as above.
  double evaluate_continuous(const Tensor<T>& x, std::size_t batch_size, const std::function<bool()>& stop = {});

  // Class-conditional models (FlowModel::classes() > 0): the same step and evaluation given
  // each image's label (labels.size() = the batch; flows/class_prior.hpp), i.e. -log p(x | y).
  StepStats step_images(const TensorU8& pixels, const std::vector<std::int32_t>& labels);
  double evaluate_images(const TensorU8& pixels, const std::vector<std::int32_t>& labels, std::size_t batch_size,
                         std::uint64_t seed = 0, const std::function<bool()>& stop = {});
  // log p(x_i | k) in nats for every image and class, N x classes row-major, with the same
  // dequantization draw as evaluate_images (seed) shared by all classes of an image; empty when
  // `stop` ended it early.
  std::vector<double> evaluate_class_log_probs(const TensorU8& pixels, std::size_t batch_size, std::uint64_t seed = 0,
                                               const std::function<bool()>& stop = {});

  FlowModel<T>& model() { return *model_; }
  Optimizer<T>& optimizer() { return *optimizer_; }
  EMA<T>* ema() { return ema_.get(); }
  Rng& rng() { return rng_; }
  std::size_t steps_done() const { return optimizer_->step_count(); }
  const TrainerOptions& options() const { return options_; }
  const LrSchedule& schedule() const { return schedule_; }
  // The multiplier recoveries put on the schedule (1 until the first recovery).
  double lr_scale() const { return lr_scale_; }
  const LossSpikeRule& spike_rule() const { return spike_rule_; }
  const TrainSnapshot<T>& last_good_snapshot() const { return good_; }
  // The ranks this trainer averages over (current_collective() when it was built).
  Collective& collective() const { return *collective_; }

  // A divergence found outside a step: the state check before a checkpoint (cli/train.cpp)
  // found `what` non-finite. Under the recover policy, rolls back to the last good snapshot
  // exactly as a diverged step does (counted against the budget, learning rate lowered; no
  // batch consumed) and returns the row to log; throws NonFiniteError under the stop policy,
  // when the budget is spent, or when no good snapshot exists.
  StepStats recover_state(const std::string& what);

  // What a checkpoint must carry besides model, optimiser and EMA for an exact --resume:
  // "lr_scale" and "recovery_steps" (the recent recoveries; max_recoveries entries, 0 =
  // none). load_state_dict accepts an empty state (checkpoints from before recoveries).
  StateDict<T> state_dict() const;
  void load_state_dict(const StateDict<T>& state);

 private:
  void begin_step();
  // Marks parameters, buffers, optimiser state and averages as parameter state for
  // tensor/memory_counter.hpp.
  void mark_parameter_state() const;
  // This rank's rows of a global batch (all of it on a single process); throws when the batch
  // does not divide evenly among the ranks.
  template <typename U>
  Tensor<U> local_rows(const Tensor<U>& batch) const;
  // The allreduce of a data-parallel step: gradients and `local_loss` summed over the ranks and
  // divided by their number; returns the global loss.
  double average_over_ranks(double local_loss);
  // `local_sum` summed over the ranks (evaluation totals).
  double sum_over_ranks(double local_sum) const;
  StepStats finish_step(const Var<T>& loss);
  StepStats diverged(std::size_t step, const std::string& cause, const std::string& what, double loss,
                     double norm);

  std::shared_ptr<FlowModel<T>> model_;
  TrainerOptions options_;
  Collective* collective_;
  std::unique_ptr<Optimizer<T>> optimizer_;
  std::unique_ptr<EMA<T>> ema_;
  LrSchedule schedule_;
  Rng rng_;
  LossSpikeRule spike_rule_;
  RecoveryBudget budget_;
  std::size_t recoveries_ = 0;  // over the whole run
  double lr_scale_ = 1.0;       // lr_factor ^ recoveries_
  TrainSnapshot<T> good_, candidate_;  // the last good state; this step's pre-forward copy (model half)
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace fz
