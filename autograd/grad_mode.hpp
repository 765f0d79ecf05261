// autograd/grad_mode.hpp — the thread-local switch that turns tape recording on and off.
//
//   { NoGradGuard no_grad;  ... evaluation or sampling: ops record nothing ... }
#pragma once

namespace fz {

class GradMode {
 public:
  static bool enabled();
  static void set_enabled(bool enabled);
};

// RAII: recording is off inside the guard's scope and restored afterwards.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace fz
