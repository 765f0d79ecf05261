// cli/progress.cpp — the progress bar and its plain-text fallback.
#include "cli/progress.hpp"

#include <cstdio>
#include <sstream>

#include <unistd.h>

namespace fz::cli {

namespace {
std::string format_duration(double s) {
  if (!(s >= 0)) return "?";
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}
}  // namespace

Progress::Progress(std::size_t total_steps, double budget_seconds, std::size_t items_per_step,
                   const std::string& loss_name)
    : total_(total_steps), budget_(budget_seconds), items_per_step_(items_per_step),
      loss_name_(loss_name), tty_(::isatty(STDOUT_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::render(std::size_t step, double loss) const {
  const double t = elapsed_seconds();
  const double done_steps = static_cast<double>(step - start_step_);
  const double rate = t > 0 ? done_steps / t : 0.0;
  double fraction = 0.0, eta = -1.0;
  if (total_ > 0) {
    fraction = static_cast<double>(step) / static_cast<double>(total_);
    if (rate > 0) eta = static_cast<double>(total_ - std::min(step, total_)) / rate;
  } else if (budget_ > 0) {
    fraction = t / budget_;
    eta = budget_ - t;
  }
  std::ostringstream os;
  if (tty_) {
    const int width = 24;
    const int filled = static_cast<int>(std::min(1.0, fraction) * width);
    os << '[' << std::string(filled, '#') << std::string(width - filled, '.') << "] ";
  }
  os << "step " << step;
  if (total_ > 0) os << '/' << total_;
  char buf[160];
  std::snprintf(buf, sizeof buf, "  %s %.4f  %.0f img/s  elapsed %s  ETA %s", loss_name_.c_str(), loss,
                rate * static_cast<double>(items_per_step_), format_duration(t).c_str(),
                format_duration(eta).c_str());
  os << buf;
  return os.str();
}

void Progress::update(std::size_t step, double loss) {
  const auto now = std::chrono::steady_clock::now();
  if (!started_) {
    started_ = true;
    start_step_ = step > 0 ? step - 1 : 0;
  }
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (tty_) {
    if (since < 0.1 && step != total_) return;
    std::printf("\r\033[K%s", render(step, loss).c_str());
    bar_visible_ = true;
  } else {
    if (since < line_every_seconds_ && step != total_) return;
    std::printf("%s\n", render(step, loss).c_str());
  }
  std::fflush(stdout);
  last_draw_ = now;
}

void Progress::message(const std::string& text) {
  if (bar_visible_) std::printf("\r\033[K");
  std::printf("%s\n", text.c_str());
  bar_visible_ = false;
  std::fflush(stdout);
}

void Progress::finish() {
  if (bar_visible_) std::printf("\n");
  bar_visible_ = false;
  std::fflush(stdout);
}

}  // namespace fz::cli
