// autograd/optim/schedule.hpp — learning-rate schedules: a linear warmup followed by a
// constant, cosine, exponential or step decay, as a pure function of the step number.
//
// `step` is the number of updates already done (optimizer.step_count() before step()), so
// the first update uses lr_at(0). With warmup_steps = W > 0 the rate rises linearly,
// lr_at(s) = base_lr * (s + 1) / W for s < W, and reaches base_lr at s = W - 1. After warmup,
// with t = s - W steps into the decay:
//   Constant:     base_lr
//   Cosine:       min_lr + (base_lr - min_lr) * (1 + cos(pi * t / (total_steps - W))) / 2,
//                 and min_lr once t >= total_steps - W
//   Exponential:  base_lr * gamma^t
//   Step:         base_lr * gamma^floor(t / step_size)
//
//   LrSchedule s = cosine_schedule(1e-3, 500, 20000);
//   for (...) { opt.set_lr(s.lr_at(opt.step_count())); ...; opt.step(); }
#pragma once

#include <cstddef>

namespace fz {

enum class LrDecay { Constant, Cosine, Exponential, Step };

struct LrSchedule {
  double base_lr = 1e-3;
  std::size_t warmup_steps = 0;
  LrDecay decay = LrDecay::Constant;
  std::size_t total_steps = 0;  // Cosine: the step where min_lr is reached (warmup included)
  double min_lr = 0.0;          // Cosine
  double gamma = 1.0;           // Exponential, Step
  std::size_t step_size = 1;    // Step

  double lr_at(std::size_t step) const;
  double operator()(std::size_t step) const { return lr_at(step); }
};

// Builders (each throws std::invalid_argument for inconsistent arguments).
LrSchedule constant_schedule(double base_lr, std::size_t warmup_steps = 0);
LrSchedule cosine_schedule(double base_lr, std::size_t warmup_steps, std::size_t total_steps,
                           double min_lr = 0.0);
LrSchedule exponential_schedule(double base_lr, std::size_t warmup_steps, double gamma);
LrSchedule step_schedule(double base_lr, std::size_t warmup_steps, std::size_t step_size,
                         double gamma);

// The warmup multiplier alone: min(1, (step + 1) / warmup_steps), 1 without warmup.
double linear_warmup_factor(std::size_t step, std::size_t warmup_steps);

}  // namespace fz
