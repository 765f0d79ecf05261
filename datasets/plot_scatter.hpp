// datasets/plot_scatter.hpp — 2-D points as a scatter over numbered axes with a title: the
// toy models' samples (samples_*.png of a 2-D run, `flowzoo sample` on a 2-D checkpoint).
// Points outside the range are left out and counted in a note under the title, so a model that
// throws samples far away says so instead of looking tidy.
#pragma once

#include <string>

#include "image_write.hpp"
#include "plot_canvas.hpp"

namespace fz {

struct ScatterPlot {
  std::string title;
  std::string x_label = "x", y_label = "y";
  PlotRange range;       // unset: fitted to the points
  Tensor<double> points;  // (n, 2)
};

// Points of `points` (n, 2) outside `range` (or not finite).
std::size_t points_outside(const Tensor<double>& points, const PlotRange& range);

// (3, height, width) RGB. Throws std::invalid_argument for points that are not (n, 2).
TensorU8 scatter_plot_image(const ScatterPlot& plot, int width = 600, int height = 600);
void write_scatter_plot_png(const std::string& path, const ScatterPlot& plot, int width = 600, int height = 600);

}  // namespace fz
