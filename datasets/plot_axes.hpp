// datasets/plot_axes.hpp — a framed plot area with numbered ticks: the part every chart shares
// (line charts, heat maps, scatters in datasets/plot_*.hpp). Picks round tick values (1, 2 or 5
// times a power of ten), writes their numbers with as many decimals as the step needs, draws
// the title above and the axis labels along the frame, and maps data to pixels.
#pragma once

#include <string>
#include <vector>

#include "plot_canvas.hpp"

namespace fz {

// One axis: its data range and whether it is logarithmic (then lo, hi > 0).
struct AxisSpec {
  double lo = 0, hi = 1;
  bool log = false;
  std::string label;
};

// Round tick values inside [lo, hi], about `target` of them (none for an empty or non-finite
// range). For a log axis: powers of ten when the range spans more than three decades, else 1, 2
// and 5 times them (every whole multiple 1..9 when that gives fewer than 4), and round linear
// values within less than 0.6 of a decade.
std::vector<double> axis_ticks(const AxisSpec& axis, int target = 6);
// A tick's number: as many decimals as the tick step needs ("0.25", "1500", "1e-05").
std::string tick_text(double value, double step);

// The plot area inside a canvas and the data-to-pixel map of its two axes.
struct PlotAxes {
  double left = 0, top = 0, right = 0, bottom = 0;  // pixels of the plot area
  AxisSpec x, y;
  double px(double x) const;  // pixel column of data x (log axes map log10)
  double py(double y) const;  // pixel row of data y (up is larger)
  double width() const { return right - left; }
  double height() const { return bottom - top; }
};

struct AxesStyle {
  std::string title;
  bool grid = true;       // light lines at the ticks across the plot area
  double right_margin = 16;  // room right of the plot area (a colour bar, a legend)
};

// Text sizes used by every chart, so they read alike.
constexpr double kTitleTextSize = 15;
constexpr double kLabelTextSize = 13;
constexpr double kTickTextSize = 11;

// Lays the plot area out in the canvas (margins fitted to the tick numbers and labels), draws
// the title, the frame, tick marks with their numbers, the grid and the axis labels, and
// returns the mapping. Throws std::invalid_argument for an empty range or a log axis that
// reaches zero or below.
PlotAxes draw_axes(PlotCanvas& canvas, const AxisSpec& x, const AxisSpec& y, const AxesStyle& style);

// [lo, hi] of the finite values (of the positive ones for a log axis) widened by `pad` of the
// span on both sides (a flat range gets a margin of its own); {0, 1} when there are none.
AxisSpec fit_axis(const std::vector<double>& values, bool log, double pad = 0.05);

}  // namespace fz
