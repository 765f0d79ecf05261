// flows/trainer.cpp — the maximum-likelihood training step and evaluation loops.
#include "flows/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "autograd/optim/adam.hpp"
#include "autograd/optim/clip.hpp"
#include "autograd/optim/sgd.hpp"
#include "flows/image_likelihood.hpp"
#include "tensor/layout.hpp"

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

// Rows [begin, end) of a batch-first tensor.
template <typename U>
Tensor<U> rows(const Tensor<U>& x, std::size_t begin, std::size_t end) {
  return slice(x, 0, static_cast<long>(begin), static_cast<long>(end));
}

}  // namespace

template <typename T>
Trainer<T>::Trainer(std::shared_ptr<FlowModel<T>> model, const TrainerOptions& options,
                    std::uint64_t seed)
    : model_(std::move(model)), options_(options), rng_(seed, /*stream=*/7) {
  if (!(options.lr > 0) || !std::isfinite(options.lr))
    throw std::invalid_argument("Trainer: learning rate must be a positive number");
  if (options.clip_grad_norm < 0) throw std::invalid_argument("Trainer: clip_grad_norm must be >= 0");
  if (options.polyak_decay < 0 || options.polyak_decay >= 1)
    throw std::invalid_argument("Trainer: polyak_decay must be in [0, 1)");
  optimizer_ = make_optimizer<T>(options.optimizer, model_->parameters(), options);
  schedule_ = constant_schedule(options.lr, options.warmup_steps);
  if (options.polyak_decay > 0) ema_ = std::make_unique<EMA<T>>(model_->parameters(), options.polyak_decay);
}

template <typename T>
StepStats Trainer<T>::finish_step(const Var<T>& loss) {
  const std::size_t step = optimizer_->step_count() + 1;
  const double value = static_cast<double>(loss.value().item());
  if (!std::isfinite(value)) {
    Tape<T>::current().clear();
    throw NonFiniteError(step, "the loss is " + std::to_string(value) +
                                   " (diverged? try a lower --lr or gradient clipping)");
  }
  optimizer_->zero_grad();
  loss.backward();
  const std::vector<Var<T>>& params = optimizer_->params();
  const double norm = grad_norm(params);
  if (!std::isfinite(norm)) {
    optimizer_->zero_grad();
    throw NonFiniteError(step, "the gradient norm is " + std::to_string(norm));
  }
  if (options_.clip_grad_norm > 0) clip_grad_norm(params, options_.clip_grad_norm);
  const double lr = schedule_.lr_at(step - 1);
  optimizer_->set_lr(lr);
  optimizer_->step();
  if (ema_) ema_->update();
  return {step, value, norm, lr};
}

template <typename T>
StepStats Trainer<T>::step_images(const TensorU8& pixels) {
  model_->train();
  Var<T> x(dequantize<T>(pixels, rng_, options_.bits));
  Var<T> loss = bits_per_dim(model_->log_prob(x), model_->dims(), options_.bits);
  return finish_step(loss);
}

template <typename T>
StepStats Trainer<T>::step_continuous(const Tensor<T>& x) {
  model_->train();
  Var<T> loss = neg(mean(model_->log_prob(Var<T>(x))));
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
    if (stop && stop()) {
      model_->train();
      return std::numeric_limits<double>::quiet_NaN();
    }
    const TensorU8 batch = rows(pixels, b, std::min(n, b + batch_size));
    const Tensor<T> lp = model_->log_prob(Var<T>(dequantize<T>(batch, eval_rng, options_.bits))).value();
    for (std::size_t i = 0; i < lp.numel(); ++i)
      total += bits_per_dim(static_cast<double>(lp[i]), model_->dims(), options_.bits);
  }
  model_->train();
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
    if (stop && stop()) {
      model_->train();
      return std::numeric_limits<double>::quiet_NaN();
    }
    const Tensor<T> lp = model_->log_prob(Var<T>(rows(x, b, std::min(n, b + batch_size)))).value();
    for (std::size_t i = 0; i < lp.numel(); ++i) total -= static_cast<double>(lp[i]);
  }
  model_->train();
  return total / static_cast<double>(n);
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace fz
