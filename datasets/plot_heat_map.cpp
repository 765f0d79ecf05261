// datasets/plot_heat_map.cpp — heat_map_image: a square plot area (the range keeps its aspect
// only when it is square), the grid's colours resampled into it, the colour bar to the right.
#include "datasets/plot_heat_map.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "datasets/plot_axes.hpp"

namespace fz {

namespace {
constexpr double kBarWidth = 18;
constexpr double kBarGap = 16;
}  // namespace

ColourScale heat_map_scale(const HeatMapPlot& plot) {
  double mx = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < plot.log_prob.numel(); ++i)
    if (std::isfinite(plot.log_prob[i])) mx = std::max(mx, plot.log_prob[i]);
  ColourScale s;
  if (plot.log_scale) {
    s.label = "log p(x, y)  (nats)";
    if (std::isfinite(mx)) {
      s.lo = mx - plot.log_range;
      s.hi = mx;
    }
  } else {
    s.label = "density p(x, y)";
    if (std::isfinite(mx) && std::exp(mx) > 0 && std::isfinite(std::exp(mx))) s.hi = std::exp(mx);
  }
  return s;
}

TensorU8 heat_map_image(const HeatMapPlot& plot, int width, int height) {
  if (!plot.range.is_set()) throw std::invalid_argument("heat map: the range needs xmin < xmax and ymin < ymax");
  if (plot.log_prob.dim() != 2 || plot.log_prob.numel() == 0)
    throw std::invalid_argument("heat map: expected a (H, W) grid of log-densities, got " + shape_str(plot.log_prob.shape()));
  if (!(plot.log_range > 0)) throw std::invalid_argument("heat map: log_range must be positive");
  const TensorU8 colours = density_heatmap(plot.log_prob, plot.log_scale, plot.log_range);
  const ColourScale scale = heat_map_scale(plot);

  PlotCanvas canvas(width, height);
  // Room on the right: gap, bar, its tick numbers and its (vertical) label.
  TextStyle tick;
  tick.size = kTickTextSize;
  AxisSpec bar_axis{scale.lo, scale.hi, false, scale.label};
  const std::vector<double> bar_ticks = axis_ticks(bar_axis, 6);
  double bar_text_w = 0;
  for (std::size_t i = 0; i < bar_ticks.size(); ++i) {
    const double step = bar_ticks.size() > 1 ? bar_ticks[1] - bar_ticks[0] : 1;
    bar_text_w = std::max(bar_text_w, canvas.text_width(tick_text(bar_ticks[i], step), tick));
  }
  AxesStyle style;
  style.title = plot.title;
  style.grid = false;
  style.right_margin = kBarGap + kBarWidth + 8 + bar_text_w + 8 + kLabelTextSize + 10;
  AxisSpec x{plot.range.xmin, plot.range.xmax, false, plot.x_label};
  AxisSpec y{plot.range.ymin, plot.range.ymax, false, plot.y_label};
  PlotAxes axes = draw_axes(canvas, x, y, style);
  canvas.draw_image(colours, axes.left + 1, axes.top + 1, axes.width() - 1, axes.height() - 1);
  // draw_axes drew the ticks before the picture covered the area: the frame again on top.
  canvas.stroke_rect(axes.left + 0.5, axes.top + 0.5, axes.width(), axes.height(), kBlack);

  // The colour bar: viridis from the bottom (lo) to the top (hi), ticks at round values.
  const double bx = axes.right + kBarGap, top = axes.top, bottom = axes.bottom, h = bottom - top;
  const int rows = std::max(1, static_cast<int>(h));
  TensorU8 bar = TensorU8::empty({3, static_cast<std::size_t>(rows), 1});
  for (int r = 0; r < rows; ++r) {
    std::uint8_t rgb[3];
    viridis(1.0 - (r + 0.5) / rows, rgb);
    for (int k = 0; k < 3; ++k) bar[static_cast<std::size_t>(k * rows + r)] = rgb[k];
  }
  canvas.draw_image(bar, bx, top, kBarWidth, h);
  canvas.stroke_rect(bx + 0.5, top + 0.5, kBarWidth, h, kBlack);
  TextStyle ts = tick;
  ts.baseline = TextBaseline::kMiddle;
  for (std::size_t i = 0; i < bar_ticks.size(); ++i) {
    const double py = std::round(bottom - (bar_ticks[i] - scale.lo) / (scale.hi - scale.lo) * h) + 0.5;
    canvas.line(bx + kBarWidth, py, bx + kBarWidth + 4, py, kBlack);
    const double step = bar_ticks.size() > 1 ? bar_ticks[1] - bar_ticks[0] : 1;
    canvas.text(bx + kBarWidth + 7, py, tick_text(bar_ticks[i], step), ts);
  }
  TextStyle ls;
  ls.size = kLabelTextSize;
  ls.align = TextAlign::kCentre;
  ls.baseline = TextBaseline::kTop;
  ls.vertical = true;
  canvas.text(width - 8 - kLabelTextSize - 2, (top + bottom) / 2, scale.label, ls);
  return canvas.pixels();
}

void write_heat_map_png(const std::string& path, const HeatMapPlot& plot, int width, int height) {
  write_png(path, heat_map_image(plot, width, height));
}

}  // namespace fz
