// cli/progress.hpp — progress reporting for long runs: a live one-line bar on a terminal
// (step/total, images/s, ETA, current loss), plain periodic lines when stdout is a file or pipe.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace fz::cli {

class Progress {
 public:
  // total = 0 when the end is set by a time budget (then `budget_seconds` > 0 drives the ETA).
  Progress(std::size_t total_steps, double budget_seconds, std::size_t items_per_step,
           const std::string& loss_name);
  // Called after each step; redraws at most ~10 times a second on a terminal, and prints a
  // plain line every `line_every_seconds` otherwise.
  void update(std::size_t step, double loss);
  // Prints a message on its own line without garbling the bar.
  void message(const std::string& text);
  void finish();
  double elapsed_seconds() const;

 private:
  std::string render(std::size_t step, double loss) const;

  std::size_t total_;
  double budget_;
  std::size_t items_per_step_;
  std::string loss_name_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::size_t start_step_ = 0;
  bool started_ = false;
  bool bar_visible_ = false;
  double line_every_seconds_ = 15.0;
};

}  // namespace fz::cli
