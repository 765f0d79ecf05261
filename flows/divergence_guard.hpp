// flows/divergence_guard.hpp — when a training step counts as diverged, and how many times a
// run may recover from one (flows/trainer.cpp does the recovering: see train_snapshot.hpp).
//
// A step diverges when its loss is not finite, its gradient norm is not finite, or its loss is
// a spike. The spike rule (LossSpikeRule) looks at the last W losses of accepted steps and,
// once it has at least M of them (M = spike_min_history),
//
//   spike  <=>  loss > median + k * MAD + floor
//
// with median and MAD (the unscaled median absolute deviation from the median) over those (up
// to W) losses, k = spike_mads and floor in the loss's own units (bits/dim for images, nats for
// 2-D data). The defaults (W = 100, M = 10, k = 10, floor 1.0) are deliberately loose: early Glow training on
// Fashion-MNIST has single-batch jumps of +1.5 bits/dim over the median that it survives
// (gradient clipping absorbs them); what the rule is for is the blow-up of a diverging run
// (3.4 bits/dim -> 66 -> 870 -> inf within a dozen steps). Replayed over the metrics.csv of a
// 30-minute Glow run with the default recipe (2,674 steps), the rule never fired; it came
// closest (0.97 bits/dim short) at step 2,102, in an excursion from 3.75 to 4.64 bits/dim
// that the run recovered from by itself.
//
// The rule needs M losses before it can fire, so after a fresh start or a --resume it is quiet
// for M accepted steps (non-finite losses and gradients are always caught). A resumed run
// starts with an empty window; after W accepted steps its window holds the same losses as the
// run that never stopped, and before that the two thresholds differ only slightly (both sit
// far above a normal loss), so runs without divergence stay bit-exact under --resume.
//
// RecoveryBudget: at most max_recoveries recoveries within any recovery_window consecutive
// steps; one more divergence inside the window stops the run (NonFiniteError, exit 3).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fz {

enum class DivergencePolicy {
  Recover,  // roll back to the last good snapshot, lower the learning rate, skip the batch
  Stop,     // throw NonFiniteError at the first non-finite loss or gradient (no spike rule)
};

// "recover" | "stop"; divergence_policy_from throws std::invalid_argument for anything else.
const char* to_string(DivergencePolicy policy);
DivergencePolicy divergence_policy_from(const std::string& name);

struct DivergenceOptions {
  DivergencePolicy policy = DivergencePolicy::Recover;
  std::size_t spike_window = 100;    // W: accepted losses the spike rule looks at
  std::size_t spike_min_history = 10;  // M: accepted losses it needs before it can fire
  double spike_mads = 10.0;          // k
  double spike_floor = 1.0;          // in loss units (bits/dim or nats)
  std::size_t snapshot_every = 100;  // steps between in-memory snapshots of the training state
  double lr_factor = 0.5;            // each recovery multiplies the learning rate by this
  std::size_t max_recoveries = 5;    // recoveries allowed within recovery_window steps
  std::size_t recovery_window = 1000;

  // Throws std::invalid_argument naming the first bad field.
  void validate() const;
};

class LossSpikeRule {
 public:
  LossSpikeRule(std::size_t window, std::size_t min_history, double mads, double floor);

  // True once `min_history` accepted losses are known.
  bool armed() const { return count_ >= min_history_; }
  // median + k * MAD + floor of the window; +infinity until armed.
  double threshold() const { return threshold_; }
  double median() const { return median_; }
  double mad() const { return mad_; }
  bool is_spike(double loss) const { return loss > threshold_; }
  // Adds the loss of an accepted step (the oldest one leaves a full window).
  void accept(double loss);

 private:
  std::vector<double> history_;  // ring buffer of the last `window` accepted losses
  std::size_t min_history_, next_ = 0, count_ = 0;
  double mads_, floor_;
  double median_ = 0.0, mad_ = 0.0, threshold_;
};

class RecoveryBudget {
 public:
  RecoveryBudget(std::size_t max_recoveries, std::size_t window);
  // Whether a recovery at `step` stays within the budget; if so it is counted.
  bool try_spend(std::size_t step);
  // Steps of the recoveries still inside the window (oldest first), for checkpoints.
  const std::vector<std::size_t>& recent() const { return recent_; }
  void set_recent(std::vector<std::size_t> steps) { recent_ = std::move(steps); }

 private:
  std::size_t max_, window_;
  std::vector<std::size_t> recent_;
};

}  // namespace fz
