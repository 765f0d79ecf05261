// flows/trainer.cpp — the maximum-likelihood training step and evaluation loops.
#include "flows/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "autograd/nn/non_finite_scan.hpp"
#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "autograd/optim/adam.hpp"
#include "autograd/optim/clip.hpp"
#include "autograd/optim/sgd.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/memory_saving.hpp"
#include "flows/variational_dequantizer.hpp"
#include "tensor/layout.hpp"
#include "tensor/memory_counter.hpp"
#include "tensor/printable.hpp"

namespace fz {

namespace {

template <typename T>
std::unique_ptr<Optimizer<T>> make_optimizer(const std::string& name, std::vector<Var<T>> params,
                                             const TrainerOptions& o) {
  if (name == "adam") return std::make_unique<Adam<T>>(std::move(params), o.lr);
  if (name == "adamax") return std::make_unique<Adamax<T>>(std::move(params), o.lr);
  if (name == "adamw") return std::make_unique<AdamW<T>>(std::move(params), o.lr, o.weight_decay);
  if (name == "sgd") return std::make_unique<SGD<T>>(std::move(params), o.lr);
  throw std::invalid_argument("unknown optimizer '" + name + "' (adam, adamax, adamw, sgd)");
}

// Four significant digits, for messages.
std::string format_number(double v) { return format_significant(v, 4); }

// Rows [begin, end) of a batch-first tensor.
template <typename U>
Tensor<U> rows(const Tensor<U>& x, std::size_t begin, std::size_t end) {
  return slice(x, 0, static_cast<long>(begin), static_cast<long>(end));
}

}  // namespace

LrSchedule lr_schedule_from(const TrainerOptions& o) {
  if (o.schedule == "constant") return constant_schedule(o.lr, o.warmup_steps);
  if (o.schedule == "cosine") return cosine_schedule(o.lr, o.warmup_steps, o.schedule_steps, o.lr_min);
  if (o.schedule == "step") return step_schedule(o.lr, o.warmup_steps, o.schedule_step_every, o.schedule_gamma);
  throw std::invalid_argument("unknown learning-rate schedule '" + o.schedule + "' (constant, cosine, step)");
}

template <typename T>
Trainer<T>::Trainer(std::shared_ptr<FlowModel<T>> model, const TrainerOptions& options,
                    std::uint64_t seed)
    : model_(std::move(model)),
      options_(options),
      collective_(&current_collective()),
      rng_(seed, /*stream=*/7),
      spike_rule_(std::max<std::size_t>(options.divergence.spike_window, 1), options.divergence.spike_min_history,
                  options.divergence.spike_mads, options.divergence.spike_floor),
      budget_(options.divergence.max_recoveries, options.divergence.recovery_window) {
  if (!(options.lr > 0) || !std::isfinite(options.lr))
    throw std::invalid_argument("Trainer: learning rate must be a positive number");
  if (options.clip_grad_norm < 0) throw std::invalid_argument("Trainer: clip_grad_norm must be >= 0");
  if (options.polyak_decay < 0 || options.polyak_decay >= 1)
    throw std::invalid_argument("Trainer: polyak_decay must be in [0, 1)");
  options.divergence.validate();
  const std::optional<MemorySaving> memory_saving = parse_memory_saving(options.memory_saving);
  if (!memory_saving)
    throw std::invalid_argument("Trainer: memory_saving must be none, checkpoint or invertible, not '" +
                                options.memory_saving + "'");
  set_memory_saving(*model_, *memory_saving);
  optimizer_ = make_optimizer<T>(options.optimizer, model_->parameters(), options);
  schedule_ = lr_schedule_from(options);
  if (collective_->distributed()) {
    // Every rank starts from rank 0's parameters: the same seed should give the same ones,
    // and the broadcast makes sure of it (one buffer, the optimiser's parameter order).
    const std::vector<Var<T>>& params = optimizer_->params();
    std::vector<T> flat;
    for (const Var<T>& p : params) flat.insert(flat.end(), p.value().begin(), p.value().end());
    collective_->broadcast(flat.data(), flat.size(), 0);
    std::size_t at = 0;
    for (Var<T> p : params) {
      Tensor<T>& v = p.mutable_value();
      for (std::size_t i = 0; i < v.numel(); ++i) v[i] = flat[at++];
    }
  }
  if (options.polyak_decay > 0) ema_ = std::make_unique<EMA<T>>(model_->parameters(), options.polyak_decay);
  mark_parameter_state();
}

template <typename T>
void Trainer<T>::mark_parameter_state() const {
  // Every one of these is updated in place for the whole run (never replaced), so marking them
  // once is enough; gradients inherit their parameter's kind (autograd/var.cpp), snapshots
  // mark their own copies (flows/train_snapshot.cpp).
  for (const auto& entry : model_->state_dict()) set_memory_kind(entry.second, MemoryKind::parameter_state);
  for (const auto& entry : optimizer_->state_view()) set_memory_kind(entry.second, MemoryKind::parameter_state);
  if (ema_)
    for (const auto& entry : ema_->state_view()) set_memory_kind(entry.second, MemoryKind::parameter_state);
}

template <typename T>
template <typename U>
Tensor<U> Trainer<T>::local_rows(const Tensor<U>& batch) const {
  if (!collective_->distributed()) return batch;
  const std::size_t n = batch.shape().at(0), ranks = static_cast<std::size_t>(collective_->size());
  if (n % ranks != 0)
    throw std::invalid_argument("data-parallel training: the batch of " + std::to_string(n) +
                                " does not divide evenly among " + std::to_string(ranks) + " ranks");
  const RowRange r = rank_rows(*collective_, n);
  return rows(batch, r.begin, r.end);
}

template <typename T>
double Trainer<T>::average_over_ranks(double local_loss) {
  // One flat buffer, one allreduce: each parameter's gradient in the optimiser's (fixed) order
  // (zeros where this rank got none), then the loss. Sum, then divide by the ranks: the batch
  // splits evenly, so the mean of the ranks' mean gradients is the global batch's.
  const std::vector<Var<T>>& params = optimizer_->params();
  std::vector<T> flat;
  for (const Var<T>& p : params) {
    if (p.grad().defined()) flat.insert(flat.end(), p.grad().begin(), p.grad().end());
    else flat.insert(flat.end(), p.numel(), T(0));
  }
  flat.push_back(static_cast<T>(local_loss));
  collective_->allreduce_sum(flat.data(), flat.size());
  const T scale = T(1) / static_cast<T>(collective_->size());
  std::size_t at = 0;
  for (const Var<T>& p : params) {
    if (!p.grad().defined()) p.accumulate_grad(Tensor<T>(p.shape()));  // a zero gradient to write into
    Tensor<T> g = p.grad();  // shares the leaf's gradient buffer
    for (std::size_t i = 0; i < g.numel(); ++i) g[i] = flat[at++] * scale;
  }
  return static_cast<double>(flat.back() * scale);
}

template <typename T>
double Trainer<T>::sum_over_ranks(double local_sum) const {
  collective_->allreduce_sum(&local_sum, 1);
  return local_sum;
}

template <typename T>
void Trainer<T>::begin_step() {
  if (options_.divergence.policy != DivergencePolicy::Recover) return;
  const std::size_t done = steps_done();
  // Copied before the forward pass, which may change buffers (ActNorm's initialisation,
  // batch-norm statistics) even when the step then diverges.
  if (!good_.valid() || done % options_.divergence.snapshot_every == 0) {
    // The model half only: forward and backward leave the optimiser's state and the averages
    // alone, so their copy waits until the step has passed its checks (finish_step) and never
    // coexists with the previous good one.
    candidate_.capture_model(*model_, done);
    // A state that already holds NaN or inf is never promoted to the last good one; the check
    // before the next checkpoint finds it and rolls back (recover_state).
    if (!candidate_.all_finite()) candidate_.invalidate();
  }
}

template <typename T>
StepStats Trainer<T>::recover_state(const std::string& what) {
  const std::size_t step = steps_done();
  if (options_.divergence.policy != DivergencePolicy::Recover) throw NonFiniteError(step, what);
  return diverged(step, "nonfinite_state", what, std::nan(""), std::nan(""));
}

template <typename T>
StepStats Trainer<T>::finish_step(const Var<T>& loss) {
  const std::size_t step = optimizer_->step_count() + 1;
  const bool recover = options_.divergence.policy == DivergencePolicy::Recover;
  double value = static_cast<double>(loss.value().item());
  const bool distributed = collective_->distributed();
  if (distributed) {
    // Every rank runs backward (a non-finite local loss too: its gradients are then simply not
    // taken) and joins the one allreduce; the checks below see the global loss and gradient.
    optimizer_->zero_grad();
    if (std::isfinite(value)) loss.backward();
    else Tape<T>::current().clear();
    value = average_over_ranks(value);
  }
  if (!std::isfinite(value)) {
    Tape<T>::current().clear();
    const std::string what = "the loss is " + std::to_string(value);
    if (!recover) throw NonFiniteError(step, what + " (diverged? try a lower --lr or gradient clipping)");
    return diverged(step, "nonfinite_loss", what, value, std::nan(""));
  }
  if (recover && spike_rule_.is_spike(value)) {
    Tape<T>::current().clear();
    return diverged(step, "loss_spike",
                    "loss spike: " + format_number(value) + " is above median " + format_number(spike_rule_.median()) +
                        " + " + format_number(options_.divergence.spike_mads) + " x MAD " +
                        format_number(spike_rule_.mad()) + " + " + format_number(options_.divergence.spike_floor),
                    value, std::nan(""));
  }
  if (!distributed) {
    optimizer_->zero_grad();
    loss.backward();
  }
  const std::vector<Var<T>>& params = optimizer_->params();
  const double norm = grad_norm(params);
  if (!std::isfinite(norm)) {
    optimizer_->zero_grad();
    const std::string what = "the gradient norm is " + std::to_string(norm);
    if (!recover) throw NonFiniteError(step, what);
    return diverged(step, "nonfinite_grad", what, value, norm);
  }
  // A finite gradient can still break the optimiser's state (Adam's squared moments overflow),
  // and nothing downstream would notice. Treated as a non-finite gradient when recovering;
  // with `stop` the check before a checkpoint catches it.
  if (recover && norm > optimizer_->largest_safe_gradient_norm()) {
    optimizer_->zero_grad();
    return diverged(step, "nonfinite_grad",
                    "the gradient norm " + format_number(norm) + " would overflow the optimiser's state",
                    value, norm);
  }
  if (recover) {
    // This step's pre-forward copy (if one was taken) is now known good.
    // Its optimiser half is copied now, still before the update; a state that holds NaN or inf
    // is not promoted (the check before the next checkpoint finds it).
    if (candidate_.valid() && first_non_finite(optimizer_->state_view()).empty() &&
        (!ema_ || first_non_finite(ema_->state_view()).empty())) {
      good_.swap_model(candidate_);
      good_.capture_optimizer(*optimizer_, ema_.get());
    }
    candidate_.invalidate();
    spike_rule_.accept(value);
  }
  if (options_.clip_grad_norm > 0) clip_grad_norm(params, options_.clip_grad_norm);
  const double lr = schedule_.lr_at(step - 1) * lr_scale_;
  optimizer_->set_lr(lr);
  // The averages start from the parameters as the first forward left them (ActNorm
  // initialised), not from the random initialisation.
  if (ema_ && ema_->num_updates() == 0) ema_->restart();
  optimizer_->step();
  if (ema_) ema_->update();
  return {step, value, norm, lr, {}, {}};
}

template <typename T>
StepStats Trainer<T>::diverged(std::size_t step, const std::string& cause, const std::string& what, double loss,
                               double norm) {
  optimizer_->zero_grad();
  const DivergenceOptions& d = options_.divergence;
  // A candidate is taken at every step while no good snapshot exists, so one of them is valid.
  if (!good_.valid() && !candidate_.valid())
    throw NonFiniteError(step, what + "; no finite state was kept to roll back to");
  const TrainSnapshot<T>& back = good_.valid() ? good_ : candidate_;
  back.restore(*model_, *optimizer_, ema_.get());
  candidate_.invalidate();
  if (!budget_.try_spend(step))
    throw NonFiniteError(step, what + "; that is more than " + std::to_string(d.max_recoveries) +
                                   " recoveries within " + std::to_string(d.recovery_window) +
                                   " steps, so training stops (the trainer is back at the state after step " +
                                   std::to_string(back.step()) + ")");
  optimizer_->set_step_count(step);  // the batch is consumed: data and schedule move on
  ++recoveries_;
  lr_scale_ = std::pow(d.lr_factor, static_cast<double>(recoveries_));
  const double next_lr = schedule_.lr_at(step) * lr_scale_;
  StepStats stats{step, loss, norm, next_lr, "recovered:" + cause, {}};
  stats.message = "step " + std::to_string(step) + ": " + what + "; rolled back to the state after step " +
                  std::to_string(back.step()) + ", skipped the batch, learning rate x" + format_number(lr_scale_) +
                  " -> " + format_number(next_lr) + " (recovery " + std::to_string(budget_.recent().size()) + " of " +
                  std::to_string(d.max_recoveries) + " allowed within " + std::to_string(d.recovery_window) +
                  " steps)";
  return stats;
}

template <typename T>
StateDict<T> Trainer<T>::state_dict() const {
  StateDict<T> state;
  state.insert("recoveries", Tensor<T>::scalar(static_cast<T>(recoveries_)));
  Tensor<T> recent(Shape{options_.divergence.max_recoveries});
  const std::vector<std::size_t>& steps = budget_.recent();
  for (std::size_t i = 0; i < steps.size() && i < recent.numel(); ++i) recent[i] = static_cast<T>(steps[i]);
  state.insert("recovery_steps", recent);
  return state;
}

template <typename T>
void Trainer<T>::load_state_dict(const StateDict<T>& state) {
  if (state.empty()) return;  // a checkpoint from before divergence recovery existed
  if (!state.contains("recoveries") || !state.contains("recovery_steps") || state.at("recoveries").numel() != 1)
    throw std::invalid_argument("Trainer::load_state_dict: expected 'recoveries' and 'recovery_steps'");
  const double n = static_cast<double>(state.at("recoveries")[0]);
  if (!(n >= 0) || n > 1e9) throw std::invalid_argument("Trainer::load_state_dict: bad recovery count");
  std::vector<std::size_t> steps;
  for (T v : state.at("recovery_steps"))
    if (v > T(0)) steps.push_back(static_cast<std::size_t>(std::llround(static_cast<double>(v))));
  recoveries_ = static_cast<std::size_t>(std::llround(n));
  lr_scale_ = std::pow(options_.divergence.lr_factor, static_cast<double>(recoveries_));
  budget_.set_recent(std::move(steps));
}

template <typename T>
StepStats Trainer<T>::step_images(const TensorU8& pixels) {
  optimizer_->zero_grad();  // the last step's gradients are not kept alive through this forward
  begin_step();
  model_->train();
  if (VariationalDequantizer<T>* q = model_->dequantizer()) {
    // The variational bound: bits/dim of log p(y) - log q(u | x). The standard-normal noise is
    // drawn for the global batch on every rank (the generator stays in step), each rank
    // transforms its rows.
    const Tensor<T> eps = local_rows(q->draw_noise(pixels.shape().at(0), rng_));
    const DequantizedBatch<T> d = q->dequantize(local_rows(pixels), eps);
    return finish_step(bits_per_dim(model_->log_prob(d.y) - d.log_q, model_->dims(), options_.bits));
  }
  // The noise is drawn for the global batch on every rank, then each keeps its rows.
  Var<T> x(local_rows(dequantize<T>(pixels, rng_, options_.bits)));
  Var<T> loss = bits_per_dim(model_->log_prob(x), model_->dims(), options_.bits);
  return finish_step(loss);
}

template <typename T>
StepStats Trainer<T>::step_continuous(const Tensor<T>& x) {
  optimizer_->zero_grad();  // as in step_images
  begin_step();
  model_->train();
  Var<T> loss = neg(mean(model_->log_prob(Var<T>(local_rows(x)))));
  return finish_step(loss);
}

template <typename T>
double Trainer<T>::evaluate_images(const TensorU8& pixels, std::size_t batch_size, std::uint64_t seed,
                                   const std::function<bool()>& stop) {
  if (batch_size == 0) throw std::invalid_argument("evaluate: batch size must be positive");
  NoGradGuard no_grad;
  model_->eval();
  std::unique_ptr<EmaScope<T>> averaged;
  if (ema_) averaged = std::make_unique<EmaScope<T>>(*ema_);
  Rng eval_rng(seed, /*stream=*/11);
  double total = 0.0;
  const std::size_t n = pixels.shape().at(0);
  for (std::size_t b = 0; b < n; b += batch_size) {
    // Asked on every rank and agreed, so all ranks leave at the same batch.
    if (stop && any_rank(*collective_, stop())) {
      model_->train();
      return std::numeric_limits<double>::quiet_NaN();
    }
    const TensorU8 batch = rows(pixels, b, std::min(n, b + batch_size));
    if (VariationalDequantizer<T>* q = model_->dequantizer()) {
      // The variational bound, as step_images; noise for the whole batch, this rank's rows.
      Tensor<T> eps = q->draw_noise(batch.shape()[0], eval_rng);
      TensorU8 mine_px = batch;
      if (collective_->distributed()) {
        const RowRange mine = rank_rows(*collective_, batch.shape()[0]);
        if (mine.size() == 0) continue;
        eps = rows(eps, mine.begin, mine.end);
        mine_px = rows(batch, mine.begin, mine.end);
      }
      const DequantizedBatch<T> d = q->dequantize(mine_px, eps);
      const Tensor<T> bound = (model_->log_prob(d.y) - d.log_q).value();
      for (std::size_t i = 0; i < bound.numel(); ++i)
        total += bits_per_dim(static_cast<double>(bound[i]), model_->dims(), options_.bits);
      continue;
    }
    // Noise for the whole batch (as a single process draws it); this rank's share of its rows.
    Tensor<T> x = dequantize<T>(batch, eval_rng, options_.bits);
    if (collective_->distributed()) {
      const RowRange mine = rank_rows(*collective_, batch.shape()[0]);
      if (mine.size() == 0) continue;
      x = rows(x, mine.begin, mine.end);
    }
    const Tensor<T> lp = model_->log_prob(Var<T>(x)).value();
    for (std::size_t i = 0; i < lp.numel(); ++i)
      total += bits_per_dim(static_cast<double>(lp[i]), model_->dims(), options_.bits);
  }
  model_->train();
  if (collective_->distributed()) total = sum_over_ranks(total);
  return total / static_cast<double>(n);
}

template <typename T>
double Trainer<T>::evaluate_continuous(const Tensor<T>& x, std::size_t batch_size, const std::function<bool()>& stop) {
  if (batch_size == 0) throw std::invalid_argument("evaluate: batch size must be positive");
  NoGradGuard no_grad;
  model_->eval();
  std::unique_ptr<EmaScope<T>> averaged;
  if (ema_) averaged = std::make_unique<EmaScope<T>>(*ema_);
  double total = 0.0;
  const std::size_t n = x.shape().at(0);
  for (std::size_t b = 0; b < n; b += batch_size) {
    if (stop && any_rank(*collective_, stop())) {
      model_->train();
      return std::numeric_limits<double>::quiet_NaN();
    }
    const std::size_t end = std::min(n, b + batch_size);
    RowRange mine{b, end};
    if (collective_->distributed()) {
      const RowRange share = rank_rows(*collective_, end - b);
      mine = {b + share.begin, b + share.end};
      if (mine.size() == 0) continue;
    }
    const Tensor<T> lp = model_->log_prob(Var<T>(rows(x, mine.begin, mine.end))).value();
    for (std::size_t i = 0; i < lp.numel(); ++i) total -= static_cast<double>(lp[i]);
  }
  model_->train();
  if (collective_->distributed()) total = sum_over_ranks(total);
  return total / static_cast<double>(n);
}

template <typename T>
StepStats Trainer<T>::step_images(const TensorU8& pixels, const std::vector<std::int32_t>& labels) {
  if (labels.size() != pixels.shape().at(0))
    throw std::invalid_argument("step_images: " + std::to_string(labels.size()) + " labels for a batch of " +
                                std::to_string(pixels.shape().at(0)));
  const IndexTensor all = class_labels(labels, model_->classes());
  begin_step();
  model_->train();
  // As step_images above, with this rank's rows of the labels too.
  Var<T> x(local_rows(dequantize<T>(pixels, rng_, options_.bits)));
  IndexTensor mine = all;
  if (collective_->distributed()) {
    const RowRange r = rank_rows(*collective_, labels.size());
    mine = IndexTensor{{r.size()}, std::vector<std::size_t>(all.values.begin() + static_cast<long>(r.begin),
                                                            all.values.begin() + static_cast<long>(r.end))};
  }
  Var<T> loss = bits_per_dim(model_->log_prob(x, mine), model_->dims(), options_.bits);
  return finish_step(loss);
}

template <typename T>
double Trainer<T>::evaluate_images(const TensorU8& pixels, const std::vector<std::int32_t>& labels,
                                   std::size_t batch_size, std::uint64_t seed, const std::function<bool()>& stop) {
  if (batch_size == 0) throw std::invalid_argument("evaluate: batch size must be positive");
  const std::size_t n = pixels.shape().at(0);
  if (labels.size() != n)
    throw std::invalid_argument("evaluate: " + std::to_string(labels.size()) + " labels for " + std::to_string(n) +
                                " images");
  const IndexTensor all = class_labels(labels, model_->classes());
  NoGradGuard no_grad;
  model_->eval();
  std::unique_ptr<EmaScope<T>> averaged;
  if (ema_) averaged = std::make_unique<EmaScope<T>>(*ema_);
  Rng eval_rng(seed, /*stream=*/11);  // the unconditional evaluate_images' draws
  double total = 0.0;
  for (std::size_t b = 0; b < n; b += batch_size) {
    if (stop && any_rank(*collective_, stop())) {
      model_->train();
      return std::numeric_limits<double>::quiet_NaN();
    }
    const std::size_t end = std::min(n, b + batch_size);
    Tensor<T> x = dequantize<T>(rows(pixels, b, end), eval_rng, options_.bits);
    RowRange mine{0, end - b};
    if (collective_->distributed()) {
      mine = rank_rows(*collective_, end - b);
      if (mine.size() == 0) continue;
      x = rows(x, mine.begin, mine.end);
    }
    const IndexTensor y{{mine.size()}, std::vector<std::size_t>(all.values.begin() + static_cast<long>(b + mine.begin),
                                                                all.values.begin() + static_cast<long>(b + mine.end))};
    const Tensor<T> lp = model_->log_prob(Var<T>(x), y).value();
    for (std::size_t i = 0; i < lp.numel(); ++i)
      total += bits_per_dim(static_cast<double>(lp[i]), model_->dims(), options_.bits);
  }
  model_->train();
  if (collective_->distributed()) total = sum_over_ranks(total);
  return total / static_cast<double>(n);
}

template <typename T>
std::vector<double> Trainer<T>::evaluate_class_log_probs(const TensorU8& pixels, std::size_t batch_size,
                                                         std::uint64_t seed, const std::function<bool()>& stop) {
  if (batch_size == 0) throw std::invalid_argument("evaluate: batch size must be positive");
  const std::size_t k = model_->classes();
  if (!k) throw std::invalid_argument("evaluate_class_log_probs: the model is not class-conditional");
  NoGradGuard no_grad;
  model_->eval();
  std::unique_ptr<EmaScope<T>> averaged;
  if (ema_) averaged = std::make_unique<EmaScope<T>>(*ema_);
  Rng eval_rng(seed, /*stream=*/11);  // evaluate_images' draws, so the true class's column is its log p(x | y)
  const std::size_t n = pixels.shape().at(0);
  std::vector<double> scores(n * k, 0.0);  // rows another rank computes stay 0 until the sum
  for (std::size_t b = 0; b < n; b += batch_size) {
    if (stop && any_rank(*collective_, stop())) {
      model_->train();
      return {};
    }
    const std::size_t end = std::min(n, b + batch_size);
    Tensor<T> x = dequantize<T>(rows(pixels, b, end), eval_rng, options_.bits);
    RowRange mine{0, end - b};
    if (collective_->distributed()) {
      mine = rank_rows(*collective_, end - b);
      if (mine.size() == 0) continue;
      x = rows(x, mine.begin, mine.end);
    }
    const Tensor<T> lp = model_->class_log_probs(Var<T>(x));
    for (std::size_t i = 0; i < lp.numel(); ++i) scores[(b + mine.begin) * k + i] = static_cast<double>(lp[i]);
  }
  model_->train();
  if (collective_->distributed()) collective_->allreduce_sum(scores.data(), scores.size());
  return scores;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace fz
