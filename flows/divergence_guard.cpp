// flows/divergence_guard.cpp — the spike rule's running median and MAD, and the recovery budget.
#include "flows/divergence_guard.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fz {

namespace {

// Median of `v` (sorted in place); the mean of the two middle values for an even count.
double median_of(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

const char* to_string(DivergencePolicy policy) {
  return policy == DivergencePolicy::Recover ? "recover" : "stop";
}

DivergencePolicy divergence_policy_from(const std::string& name) {
  if (name == "recover") return DivergencePolicy::Recover;
  if (name == "stop") return DivergencePolicy::Stop;
  throw std::invalid_argument("unknown divergence policy '" + name + "' (recover, stop)");
}

void DivergenceOptions::validate() const {
  auto bad = [](const std::string& what) { throw std::invalid_argument("divergence guard: " + what); };
  if (spike_window < 3 || spike_window > 100000) bad("spike_window must be between 3 and 100000");
  if (spike_min_history < 3 || spike_min_history > spike_window)
    bad("spike_min_history must be between 3 and spike_window");
  if (!(spike_mads >= 0) || !std::isfinite(spike_mads)) bad("spike_mads must be a non-negative number");
  if (!(spike_floor >= 0) || !std::isfinite(spike_floor)) bad("spike_floor must be a non-negative number");
  if (snapshot_every == 0) bad("snapshot_every must be positive");
  if (!(lr_factor > 0 && lr_factor < 1)) bad("lr_factor must be in (0, 1)");
  if (max_recoveries == 0 || max_recoveries > 1000) bad("max_recoveries must be between 1 and 1000");
  if (recovery_window == 0) bad("recovery_window must be positive");
}

LossSpikeRule::LossSpikeRule(std::size_t window, std::size_t min_history, double mads, double floor)
    : history_(window), min_history_(std::max<std::size_t>(min_history, 1)), mads_(mads), floor_(floor), threshold_(std::numeric_limits<double>::infinity()) {
  if (window == 0) throw std::invalid_argument("LossSpikeRule: the window must be positive");
}

void LossSpikeRule::accept(double loss) {
  history_[next_] = loss;
  next_ = (next_ + 1) % history_.size();
  count_ = std::min(count_ + 1, history_.size());
  if (!armed()) return;
  // Recompute median and MAD of the window (W = 100 values: a few microseconds a step).
  std::vector<double> scratch(history_.begin(), history_.begin() + static_cast<long>(count_));
  median_ = median_of(scratch);
  for (double& x : scratch) x = std::abs(x - median_);
  mad_ = median_of(scratch);
  threshold_ = median_ + mads_ * mad_ + floor_;
}

RecoveryBudget::RecoveryBudget(std::size_t max_recoveries, std::size_t window)
    : max_(max_recoveries), window_(window) {}

bool RecoveryBudget::try_spend(std::size_t step) {
  // Forget recoveries that left the window (step - window, step].
  recent_.erase(std::remove_if(recent_.begin(), recent_.end(),
                               [&](std::size_t s) { return s + window_ <= step; }),
                recent_.end());
  if (recent_.size() >= max_) return false;
  recent_.push_back(step);
  return true;
}

}  // namespace fz
