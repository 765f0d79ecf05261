// autograd/optim/ema.hpp — Polyak / exponential moving averages of parameters (as Glow
// evaluates and samples with), kept as shadow copies next to the live parameters.
//
//   shadow = d * shadow + (1 - d) * param        after every optimiser step (update())
//
// d is `decay`, or with warmup = true min(decay, (1 + n) / (10 + n)) where n is the number
// of earlier updates (TensorFlow's ExponentialMovingAverage with num_updates), so early
// averages are not dominated by the random initialisation. Shadows start as copies of the
// parameters; restart() copies them again, for parameters that change before the first
// update without being trained (ActNorm's data-dependent initialisation in the first forward:
// flows/trainer.cpp restarts the averages there, so they start from the initialised values).
//
// For evaluation, swap_in() puts the averages into the parameters (keeping the trained
// values aside) and swap_out() restores them; EmaScope does both around a scope:
//
//   { EmaScope<float> use_averages(ema); evaluate(model); }   // trained values back here
#pragma once

#include <cstddef>
#include <vector>

#include "../nn/module.hpp"
#include "../var.hpp"

namespace fz {

template <typename T>
class EMA {
 public:
  // Throws std::invalid_argument unless 0 <= decay <= 1 and every parameter is defined.
  EMA(std::vector<Var<T>> params, double decay, bool warmup = false);

  // Moves every shadow toward its parameter. Throws std::logic_error while swapped in.
  void update();
  // The decay the next update() will use.
  double current_decay() const;
  std::size_t num_updates() const { return num_updates_; }

  // Parameters <- shadows (trained values kept aside). Throws if already swapped in.
  void swap_in();
  // Parameters <- the trained values kept by swap_in(). Throws if not swapped in.
  void swap_out();
  bool swapped_in() const { return swapped_in_; }
  // Parameters <- shadows, for good (e.g. before saving a final model).
  void copy_to_params();
  // Shadows <- the current parameters and the update count back to 0, as if constructed now.
  // Throws std::logic_error while swapped in.
  void restart();

  const std::vector<Tensor<T>>& shadows() const { return shadows_; }
  const std::vector<Var<T>>& params() const { return params_; }

  // "num_updates" and "shadow.<i>"; load checks names and shapes and changes nothing on error.
  StateDict<T> state_dict() const;
  void load_state_dict(const StateDict<T>& state);
  // The same entries sharing the live shadows (no copy), like Optimizer::state_view.
  StateDict<T> state_view() const;

 private:
  std::vector<Var<T>> params_;
  std::vector<Tensor<T>> shadows_;
  std::vector<Tensor<T>> backup_;  // trained values while swapped in
  double decay_;
  bool warmup_;
  std::size_t num_updates_ = 0;
  bool swapped_in_ = false;
};

// RAII: swap_in() on construction, swap_out() on destruction.
template <typename T>
class EmaScope {
 public:
  explicit EmaScope(EMA<T>& ema) : ema_(ema) { ema_.swap_in(); }
  ~EmaScope() { ema_.swap_out(); }
  EmaScope(const EmaScope&) = delete;
  EmaScope& operator=(const EmaScope&) = delete;

 private:
  EMA<T>& ema_;
};

extern template class EMA<float>;
extern template class EMA<double>;

}  // namespace fz
