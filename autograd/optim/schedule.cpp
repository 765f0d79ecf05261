// autograd/optim/schedule.cpp — warmup and decay formulas.
#include "autograd/optim/schedule.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace fz {

double linear_warmup_factor(std::size_t step, std::size_t warmup_steps) {
  if (step >= warmup_steps) return 1.0;
  return static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
}

double LrSchedule::lr_at(std::size_t step) const {
  if (step < warmup_steps) return base_lr * linear_warmup_factor(step, warmup_steps);
  const double t = static_cast<double>(step - warmup_steps);
  switch (decay) {
    case LrDecay::Constant:
      return base_lr;
    case LrDecay::Cosine: {
      const double span = static_cast<double>(total_steps > warmup_steps ? total_steps - warmup_steps : 0);
      if (t >= span) return min_lr;
      const double pi = std::acos(-1.0);
      return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + std::cos(pi * t / span));
    }
    case LrDecay::Exponential:
      return base_lr * std::pow(gamma, t);
    case LrDecay::Step:
      return base_lr * std::pow(gamma, std::floor(t / static_cast<double>(step_size ? step_size : 1)));
  }
  return base_lr;
}

namespace {

void check_lr(double lr, const char* who) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    throw std::invalid_argument(std::string(who) + ": learning rate must be finite and >= 0, got " +
                                std::to_string(lr));
}

void check_gamma(double gamma, const char* who) {
  if (!(gamma > 0.0) || !std::isfinite(gamma))
    throw std::invalid_argument(std::string(who) + ": gamma must be finite and > 0, got " +
                                std::to_string(gamma));
}

}  // namespace

LrSchedule constant_schedule(double base_lr, std::size_t warmup_steps) {
  check_lr(base_lr, "constant_schedule");
  LrSchedule s;
  s.base_lr = base_lr;
  s.warmup_steps = warmup_steps;
  return s;
}

LrSchedule cosine_schedule(double base_lr, std::size_t warmup_steps, std::size_t total_steps,
                           double min_lr) {
  check_lr(base_lr, "cosine_schedule");
  check_lr(min_lr, "cosine_schedule (min_lr)");
  if (total_steps <= warmup_steps)
    throw std::invalid_argument("cosine_schedule: total_steps (" + std::to_string(total_steps) +
                                ") must exceed warmup_steps (" + std::to_string(warmup_steps) + ")");
  LrSchedule s = constant_schedule(base_lr, warmup_steps);
  s.decay = LrDecay::Cosine;
  s.total_steps = total_steps;
  s.min_lr = min_lr;
  return s;
}

LrSchedule exponential_schedule(double base_lr, std::size_t warmup_steps, double gamma) {
  check_lr(base_lr, "exponential_schedule");
  check_gamma(gamma, "exponential_schedule");
  LrSchedule s = constant_schedule(base_lr, warmup_steps);
  s.decay = LrDecay::Exponential;
  s.gamma = gamma;
  return s;
}

LrSchedule step_schedule(double base_lr, std::size_t warmup_steps, std::size_t step_size,
                         double gamma) {
  check_lr(base_lr, "step_schedule");
  check_gamma(gamma, "step_schedule");
  if (step_size == 0) throw std::invalid_argument("step_schedule: step_size must be > 0");
  LrSchedule s = constant_schedule(base_lr, warmup_steps);
  s.decay = LrDecay::Step;
  s.step_size = step_size;
  s.gamma = gamma;
  return s;
}

}  // namespace fz
