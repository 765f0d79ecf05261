// flows/trainer.hpp — maximum-likelihood training of a FlowModel.
//
// One step: (dequantize 8-bit images) -> loss = mean bits/dim (images) or mean negative
// log-likelihood in nats (continuous data, e.g. the 2-D toys) -> backward -> gradient norm
// (clipped if asked) -> learning rate from the schedule (linear warmup) -> optimiser step ->
// Polyak/EMA average update. A non-finite loss or gradient throws NonFiniteError naming the
// step, before any parameter is touched, so the last good state is what remains.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "autograd/optim/ema.hpp"
#include "autograd/optim/optimizer.hpp"
#include "autograd/optim/schedule.hpp"
#include "flows/flow_model.hpp"
#include "tensor/random.hpp"

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
  double clip_grad_norm = 0.0;     // 0 = no clipping (the norm is still measured)
  double polyak_decay = 0.0;       // 0 = no parameter averaging; e.g. 0.999
  double weight_decay = 0.0;       // adamw only
  int bits = 8;                    // image bit depth for dequantization and bits/dim
};

struct StepStats {
  std::size_t step = 0;    // 1-based count of completed steps
  double loss = 0.0;       // bits/dim (images) or nats per sample (continuous data)
  double grad_norm = 0.0;  // global L2 norm before clipping
  double lr = 0.0;
};

template <typename T>
class Trainer {
 public:
  Trainer(std::shared_ptr<FlowModel<T>> model, const TrainerOptions& options, std::uint64_t seed);

  // 8-bit images (B, C, H, W) or (B, D): dequantize, minimise mean bits/dim.
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

  FlowModel<T>& model() { return *model_; }
  Optimizer<T>& optimizer() { return *optimizer_; }
  EMA<T>* ema() { return ema_.get(); }
  Rng& rng() { return rng_; }
  std::size_t steps_done() const { return optimizer_->step_count(); }
  const TrainerOptions& options() const { return options_; }
  const LrSchedule& schedule() const { return schedule_; }

 private:
  StepStats finish_step(const Var<T>& loss);

  std::shared_ptr<FlowModel<T>> model_;
  TrainerOptions options_;
  std::unique_ptr<Optimizer<T>> optimizer_;
  std::unique_ptr<EMA<T>> ema_;
  LrSchedule schedule_;
  Rng rng_;
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace fz
