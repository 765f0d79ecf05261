// datasets/plot_scatter.cpp — scatter_plot_image: axes (datasets/plot_axes.hpp), translucent
// dots (their opacity falls with the number of points, so dense regions read darker), the count
// of points outside the range.
#include "datasets/plot_scatter.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "datasets/plot_axes.hpp"

namespace fz {

std::size_t points_outside(const Tensor<double>& points, const PlotRange& r) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < points.shape()[0]; ++i) {
    const double x = points[2 * i], y = points[2 * i + 1];
    n += !(x >= r.xmin && x <= r.xmax && y >= r.ymin && y <= r.ymax);
  }
  return n;
}

TensorU8 scatter_plot_image(const ScatterPlot& plot, int width, int height) {
  const Tensor<double>& p = plot.points;
  if (p.dim() != 2 || p.shape()[1] != 2)
    throw std::invalid_argument("scatter plot: expected (n, 2) points, got " + shape_str(p.shape()));
  const std::size_t n = p.shape()[0];
  PlotRange range = plot.range;
  if (!range.is_set()) {
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < n; ++i) {
      xs.push_back(p[2 * i]);
      ys.push_back(p[2 * i + 1]);
    }
    const AxisSpec fx = fit_axis(xs, false), fy = fit_axis(ys, false);
    range = {fx.lo, fx.hi, fy.lo, fy.hi};
  }
  PlotCanvas canvas(width, height);
  AxesStyle style;
  style.title = plot.title;
  const std::size_t outside = points_outside(p, range);
  const PlotAxes axes = draw_axes(canvas, {range.xmin, range.xmax, false, plot.x_label},
                                  {range.ymin, range.ymax, false, plot.y_label}, style);
  canvas.clip(axes.left + 1, axes.top + 1, axes.width() - 1, axes.height() - 1);
  const double opacity = std::clamp(800.0 / std::max<double>(static_cast<double>(n), 1.0), 0.12, 0.8);
  const Colour dot{20, 50, 140};
  for (std::size_t i = 0; i < n; ++i) {
    const double x = p[2 * i], y = p[2 * i + 1];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    canvas.fill_circle(axes.px(x), axes.py(y), 1.8, dot, opacity);
  }
  canvas.unclip();
  TextStyle note;
  note.size = kTickTextSize;
  note.baseline = TextBaseline::kTop;
  note.colour = Colour{70, 70, 70};
  const std::string count = std::to_string(n) + " points" +
                            (outside ? ", " + std::to_string(outside) + " outside the range (not shown)" : "");
  canvas.fill_rect(axes.left + 2, axes.top + 2, canvas.text_width(count, note) + 8, kTickTextSize + 8, kWhite, 0.85);
  canvas.text(axes.left + 6, axes.top + 5, count, note);
  return canvas.pixels();
}

void write_scatter_plot_png(const std::string& path, const ScatterPlot& plot, int width, int height) {
  write_png(path, scatter_plot_image(plot, width, height));
}

}  // namespace fz
