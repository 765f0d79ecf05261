// datasets/plot_axes.cpp — tick values, tick numbers, margins and the frame of a plot.
#include "datasets/plot_axes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace fz {

namespace {

constexpr double kTickLength = 5;
constexpr Colour kGridColour{228, 228, 228};

std::vector<double> linear_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  const double span = hi - lo;
  if (!(span > 0) || !std::isfinite(span)) return ticks;
  const double raw = span / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double step = (f < 1.5 ? 1 : f < 2.5 ? 2 : f < 7 ? 5 : 10) * mag;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k += 1) {
    const double t = k * step;
    ticks.push_back(std::fabs(t) < 1e-12 * step ? 0.0 : t);  // no "-0"
  }
  return ticks;
}

double transform(const AxisSpec& a, double v) { return a.log ? std::log10(v) : v; }

void check_axis(const AxisSpec& a, const char* name) {
  if (!(a.hi > a.lo) || !std::isfinite(a.lo) || !std::isfinite(a.hi))
    throw std::invalid_argument(std::string("plot: the ") + name + " axis needs finite lo < hi");
  if (a.log && !(a.lo > 0))
    throw std::invalid_argument(std::string("plot: the logarithmic ") + name + " axis needs positive values");
}

// The step between neighbouring ticks (for their number of decimals).
double tick_step(const std::vector<double>& ticks, std::size_t i) {
  if (ticks.size() < 2) return std::fabs(ticks[i]) > 0 ? std::fabs(ticks[i]) : 1.0;
  return i + 1 < ticks.size() ? ticks[i + 1] - ticks[i] : ticks[i] - ticks[i - 1];
}

std::string axis_tick_text(const AxisSpec& a, const std::vector<double>& ticks, std::size_t i) {
  // Log ticks are not evenly spaced: each gets the decimals its own magnitude needs.
  return tick_text(ticks[i], a.log ? ticks[i] : tick_step(ticks, i));
}

}  // namespace

std::vector<double> axis_ticks(const AxisSpec& axis, int target) {
  if (!axis.log) return linear_ticks(axis.lo, axis.hi, target);
  if (!(axis.lo > 0) || !(axis.hi > axis.lo)) return {};
  const double decades = std::log10(axis.hi / axis.lo);
  std::vector<double> ticks;
  const int k0 = static_cast<int>(std::floor(std::log10(axis.lo))), k1 = static_cast<int>(std::ceil(std::log10(axis.hi)));
  if (decades > 3) {
    for (int k = k0; k <= k1; ++k) {
      const double t = std::pow(10.0, k);
      if (t >= axis.lo * (1 - 1e-9) && t <= axis.hi * (1 + 1e-9)) ticks.push_back(t);
    }
    return ticks;
  }
  if (decades > 0.6) {
    // 1, 2 and 5 times the powers of ten; every whole mantissa 1..9 when that leaves few ticks.
    for (const std::vector<double>& mantissas : {std::vector<double>{1, 2, 5}, std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
      ticks.clear();
      for (int k = k0; k <= k1; ++k)
        for (double m : mantissas) {
          const double t = m * std::pow(10.0, k);
          if (t >= axis.lo * (1 - 1e-9) && t <= axis.hi * (1 + 1e-9)) ticks.push_back(t);
        }
      if (ticks.size() >= 4) break;
    }
    return ticks;
  }
  return linear_ticks(axis.lo, axis.hi, target);
}

std::string tick_text(double value, double step) {
  char buf[48];
  if (value == 0) return "0";
  const double mag = std::fabs(value);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(std::fabs(step)) + 1e-9)));
  if (mag >= 1e6 || decimals > 5) {
    std::snprintf(buf, sizeof buf, "%.3g", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  }
  return buf;
}

double PlotAxes::px(double v) const {
  const double a = transform(x, x.lo), b = transform(x, x.hi);
  return left + (transform(x, v) - a) / (b - a) * width();
}

double PlotAxes::py(double v) const {
  const double a = transform(y, y.lo), b = transform(y, y.hi);
  return bottom - (transform(y, v) - a) / (b - a) * height();
}

PlotAxes draw_axes(PlotCanvas& canvas, const AxisSpec& x, const AxisSpec& y, const AxesStyle& style) {
  check_axis(x, "x");
  check_axis(y, "y");
  TextStyle tick_style;
  tick_style.size = kTickTextSize;
  TextStyle label_style;
  label_style.size = kLabelTextSize;
  TextStyle title_style;
  title_style.size = kTitleTextSize;
  title_style.bold = true;

  const std::vector<double> xt = axis_ticks(x), yt = axis_ticks(y);
  double y_tick_w = 0;
  for (std::size_t i = 0; i < yt.size(); ++i) y_tick_w = std::max(y_tick_w, canvas.text_width(axis_tick_text(y, yt, i), tick_style));
  PlotAxes a;
  a.x = x;
  a.y = y;
  a.left = std::round(10 + (y.label.empty() ? 0 : kLabelTextSize + 8) + y_tick_w + kTickLength + 4);
  a.top = std::round(style.title.empty() ? 12 : 14 + kTitleTextSize + 10);
  a.right = std::round(canvas.width() - style.right_margin);
  a.bottom = std::round(canvas.height() - (10 + (x.label.empty() ? 0 : kLabelTextSize + 6) + kTickTextSize + kTickLength + 6));
  if (a.width() < 20 || a.height() < 20)
    throw std::invalid_argument("plot: a " + std::to_string(canvas.width()) + "x" + std::to_string(canvas.height()) +
                                " picture leaves no room for the plot area");

  if (!style.title.empty()) {
    TextStyle t = title_style;
    t.align = TextAlign::kCentre;
    t.baseline = TextBaseline::kTop;
    canvas.text((a.left + a.right) / 2, 10, style.title, t);
  }
  // Grid first, frame and ticks over it; pixel centres (+0.5) keep 1-pixel lines sharp.
  for (double t : xt) {
    const double px = std::round(a.px(t)) + 0.5;
    if (style.grid) canvas.line(px, a.top, px, a.bottom, kGridColour);
    canvas.line(px, a.bottom, px, a.bottom + kTickLength, kBlack);
  }
  for (double t : yt) {
    const double py = std::round(a.py(t)) + 0.5;
    if (style.grid) canvas.line(a.left, py, a.right, py, kGridColour);
    canvas.line(a.left - kTickLength, py, a.left, py, kBlack);
  }
  canvas.stroke_rect(a.left + 0.5, a.top + 0.5, a.width(), a.height(), kBlack);
  TextStyle xs = tick_style;
  xs.align = TextAlign::kCentre;
  xs.baseline = TextBaseline::kTop;
  for (std::size_t i = 0; i < xt.size(); ++i) canvas.text(a.px(xt[i]), a.bottom + kTickLength + 3, axis_tick_text(x, xt, i), xs);
  TextStyle ys = tick_style;
  ys.align = TextAlign::kEnd;
  ys.baseline = TextBaseline::kMiddle;
  for (std::size_t i = 0; i < yt.size(); ++i) canvas.text(a.left - kTickLength - 3, a.py(yt[i]), axis_tick_text(y, yt, i), ys);
  if (!x.label.empty()) {
    TextStyle l = label_style;
    l.align = TextAlign::kCentre;
    l.baseline = TextBaseline::kBaseline;
    canvas.text((a.left + a.right) / 2, canvas.height() - 10, x.label + (x.log ? " (log scale)" : ""), l);
  }
  if (!y.label.empty()) {
    TextStyle l = label_style;
    l.align = TextAlign::kCentre;
    l.baseline = TextBaseline::kTop;
    l.vertical = true;
    canvas.text(8, (a.top + a.bottom) / 2, y.label + (y.log ? " (log scale)" : ""), l);
  }
  return a;
}

AxisSpec fit_axis(const std::vector<double>& values, bool log, double pad) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v) || (log && !(v > 0))) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  AxisSpec a;
  a.log = log;
  if (!std::isfinite(lo)) {
    a.lo = log ? 0.1 : 0;
    a.hi = 1;
    return a;
  }
  if (log) {
    double l = std::log10(lo), h = std::log10(hi);
    double p = (h - l) * pad;
    if (!(p > 0)) p = 0.1;
    a.lo = std::pow(10.0, l - p);
    a.hi = std::pow(10.0, h + p);
    return a;
  }
  double p = (hi - lo) * pad;
  if (!(p > 0)) p = std::max(std::fabs(lo) * 0.05, 0.5);
  a.lo = lo - p;
  a.hi = hi + p;
  return a;
}

}  // namespace fz
