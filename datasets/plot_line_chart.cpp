// datasets/plot_line_chart.cpp — line_chart_image: fitted axes (datasets/plot_axes.hpp), the
// curves clipped to the plot area, markers, and a legend box in the upper right corner.
#include "datasets/plot_line_chart.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "datasets/image_write.hpp"
#include "datasets/plot_axes.hpp"

namespace fz {

Colour chart_colour(std::size_t k) {
  static const Colour tab10[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                   {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                   {188, 189, 34},  {23, 190, 207}};
  return tab10[k % 10];
}

TensorU8 line_chart_image(const LineChart& chart, int width, int height) {
  std::vector<double> xs, ys;
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const LineSeries& s = chart.series[k];
    if (s.x.size() != s.y.size())
      throw std::invalid_argument("line chart: series '" + s.name + "' has " + std::to_string(s.x.size()) +
                                  " x values but " + std::to_string(s.y.size()) + " y values");
    const bool sets_range = chart.range_from.empty() ||
                            std::find(chart.range_from.begin(), chart.range_from.end(), k) != chart.range_from.end();
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    if (sets_range) ys.insert(ys.end(), s.y.begin(), s.y.end());
  }
  AxisSpec x = fit_axis(xs, false, 0.02), y = fit_axis(ys, chart.log_y);
  x.label = chart.x_label;
  y.label = chart.y_label;
  PlotCanvas canvas(width, height);
  AxesStyle style;
  style.title = chart.title;
  const PlotAxes axes = draw_axes(canvas, x, y, style);

  canvas.clip(axes.left + 1, axes.top + 1, axes.width() - 1, axes.height() - 1);
  for (const LineSeries& s : chart.series) {
    std::vector<double> path;
    auto flush = [&] {
      if (s.line_width > 0) canvas.polyline(path, s.colour, s.line_width, s.opacity);
      path.clear();
    };
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      const bool ok = std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && (!chart.log_y || s.y[i] > 0);
      if (!ok) {
        flush();
        continue;
      }
      path.push_back(axes.px(s.x[i]));
      path.push_back(axes.py(s.y[i]));
    }
    flush();
    if (s.markers)
      for (std::size_t i = 0; i < s.y.size(); ++i)
        if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && (!chart.log_y || s.y[i] > 0)) {
          canvas.fill_circle(axes.px(s.x[i]), axes.py(s.y[i]), 4, kWhite);
          canvas.fill_circle(axes.px(s.x[i]), axes.py(s.y[i]), 3, s.colour, s.opacity);
        }
  }
  canvas.unclip();

  // Legend: a sample of each named series' line (and marker), then its name.
  TextStyle text;
  text.size = kLabelTextSize;
  text.baseline = TextBaseline::kMiddle;
  double text_w = 0;
  std::size_t named = 0;
  for (const LineSeries& s : chart.series)
    if (!s.name.empty()) {
      text_w = std::max(text_w, canvas.text_width(s.name, text));
      ++named;
    }
  if (named > 0) {
    const double row = 20, swatch = 26, pad = 8;
    const double box_w = pad + swatch + 6 + text_w + pad, box_h = pad + row * named;
    const double bx = axes.right - box_w - 8, by = axes.top + 8;
    canvas.fill_rect(bx, by, box_w, box_h, kWhite, 0.9);
    canvas.stroke_rect(bx + 0.5, by + 0.5, box_w, box_h, Colour{160, 160, 160});
    double cy = by + pad / 2 + row / 2;
    for (const LineSeries& s : chart.series) {
      if (s.name.empty()) continue;
      if (s.line_width > 0) canvas.line(bx + pad, cy, bx + pad + swatch, cy, s.colour, s.line_width, std::max(s.opacity, 0.5));
      if (s.markers) canvas.fill_circle(bx + pad + swatch / 2, cy, 3, s.colour);
      canvas.text(bx + pad + swatch + 6, cy, s.name, text);
      cy += row;
    }
  }
  return canvas.pixels();
}

void write_line_chart_png(const std::string& path, const LineChart& chart, int width, int height) {
  write_png(path, line_chart_image(chart, width, height));
}

}  // namespace fz
