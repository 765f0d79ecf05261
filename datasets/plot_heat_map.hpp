// datasets/plot_heat_map.hpp — a 2-D density as a picture a person can read: the viridis heat
// map of datasets/image_write.hpp density_heatmap over numbered x and y axes spanning the
// evaluated range, a title, and a colour bar beside it with the scale of its colours — the
// density p(x, y) from 0 to its maximum, or with log_scale the log-density from max - log_range
// to max (lower values share the lowest colour). `density.png` is one.
#pragma once

#include <string>

#include "image_write.hpp"
#include "plot_canvas.hpp"

namespace fz {

struct HeatMapPlot {
  std::string title;
  std::string x_label = "x", y_label = "y";
  PlotRange range;            // the area the grid covers (must be set)
  Tensor<double> log_prob;    // (H, W) log-densities, row 0 at the top (density_grid's order)
  bool log_scale = false;
  double log_range = 10.0;    // log_scale: nats shown below the maximum
};

// The colour bar's range and label for `plot`: [0, max p] "density p(x, y)", or
// [max log p - log_range, max log p] "log p(x, y) (nats)". {0, 1} when nothing is finite.
struct ColourScale {
  double lo = 0, hi = 1;
  std::string label;
};
ColourScale heat_map_scale(const HeatMapPlot& plot);

// (3, height, width) RGB. Throws std::invalid_argument for an unset range, a log_prob that is
// not 2-D, or a log_range that is not positive.
TensorU8 heat_map_image(const HeatMapPlot& plot, int width = 640, int height = 560);
void write_heat_map_png(const std::string& path, const HeatMapPlot& plot, int width = 640, int height = 560);

}  // namespace fz
