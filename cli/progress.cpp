// cli/progress.cpp — the progress bar and its plain-text fallback.
#include "cli/progress.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <sys/ioctl.h>
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

std::string join_fields(const std::vector<const std::string*>& fields) {
  std::string out;
  for (const std::string* f : fields)
    if (!f->empty()) out += (out.empty() ? "" : "  ") + *f;
  return out;
}
}  // namespace

std::string fit_progress_line(const ProgressLine& line, std::size_t width) {
  constexpr std::size_t kBarMax = 24, kBarMin = 8;
  auto bar = [&](std::size_t inner) {
    const double f = std::clamp(line.fraction, 0.0, 1.0);
    const std::size_t filled = static_cast<std::size_t>(f * static_cast<double>(inner));
    return "[" + std::string(filled, '#') + std::string(inner - filled, '.') + "] ";
  };
  // Dropped from the back of this list first.
  std::vector<const std::string*> fields = {&line.step, &line.loss, &line.eta, &line.rate, &line.elapsed};
  auto text = [&] {  // the display order: step, loss, rate, elapsed, ETA
    std::vector<const std::string*> shown;
    for (const std::string* f : {&line.step, &line.loss, &line.rate, &line.elapsed, &line.eta})
      if (std::find(fields.begin(), fields.end(), f) != fields.end()) shown.push_back(f);
    return join_fields(shown);
  };
  std::string t = text();
  if (width == 0) return line.fraction >= 0 ? bar(kBarMax) + t : t;
  if (line.fraction >= 0 && t.size() + kBarMin + 3 <= width)
    return bar(std::min(kBarMax, width - t.size() - 3)) + t;
  while (t.size() > width && fields.size() > 2) {
    fields.pop_back();
    t = text();
  }
  return t.size() > width ? t.substr(0, width) : t;
}

std::size_t output_width(bool stdout_is_terminal) {
  if (stdout_is_terminal) {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  }
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long n = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && n > 0 && n < 100000) return static_cast<std::size_t>(n);
  }
  return 0;
}

Progress::Progress(std::size_t total_steps, double budget_seconds, std::size_t items_per_step,
                   const std::string& loss_name, const std::string& item_name)
    : total_(total_steps), budget_(budget_seconds), items_per_step_(items_per_step),
      loss_name_(loss_name), item_name_(item_name), tty_(::isatty(STDOUT_FILENO) != 0),
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
  ProgressLine line;
  line.step = "step " + std::to_string(step) + (total_ > 0 ? "/" + std::to_string(total_) : "");
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s %.4f", loss_name_.c_str(), loss);
  line.loss = buf;
  std::snprintf(buf, sizeof buf, "%.0f %s/s", rate * static_cast<double>(items_per_step_), item_name_.c_str());
  line.rate = buf;
  line.elapsed = "elapsed " + format_duration(t);
  line.eta = "ETA " + format_duration(eta);
  if (tty_) line.fraction = fraction;
  // On a terminal one column is kept free: a line filling the last column wraps on some terminals.
  std::size_t width = output_width(tty_);
  if (tty_ && width > 1) width -= 1;
  return fit_progress_line(line, width);
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
