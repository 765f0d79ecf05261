// cli/progress.hpp — progress reporting for long runs: a live one-line bar on a terminal
// (step/total, loss, images/s or points/s, elapsed, ETA), plain periodic lines when stdout is a
// file or pipe. Each line fits the width of the terminal (TIOCGWINSZ on a terminal, $COLUMNS
// otherwise): the fields least worth their room are dropped first.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace fz::cli {

// The fields of one progress line, each already written out ("" = absent).
struct ProgressLine {
  std::string step;      // "step 120/2000" (always shown)
  std::string loss;      // "nll 1.2345" (always shown)
  std::string rate;      // "2041 points/s"
  std::string elapsed;   // "elapsed 0m05s"
  std::string eta;       // "ETA 1m20s"
  double fraction = -1;  // of the run done, drawn as a bar; < 0 = no bar (not a terminal)
};

// The line in at most `width` columns (0 = no limit): the bar narrows (24 columns at most, 8 at
// least) or goes, then elapsed, the rate and the ETA are dropped in that order; a line still too
// wide is cut.
std::string fit_progress_line(const ProgressLine& line, std::size_t width);

// Columns available on stdout: the terminal's width when stdout is a terminal that reports it,
// else $COLUMNS when set to a number, else 0 (no limit).
std::size_t output_width(bool stdout_is_terminal);

class Progress {
 public:
  // total = 0 when the end is set by a time budget (then `budget_seconds` > 0 drives the ETA).
  // `item_name` names what a step processes, for the rate: "img" (images), "points" (2-D data).
  Progress(std::size_t total_steps, double budget_seconds, std::size_t items_per_step,
           const std::string& loss_name, const std::string& item_name = "img");
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
  std::string loss_name_, item_name_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::size_t start_step_ = 0;
  bool started_ = false;
  bool bar_visible_ = false;
  double line_every_seconds_ = 15.0;
};

}  // namespace fz::cli
