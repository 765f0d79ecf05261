// datasets/plot_line_chart.hpp — line charts with text: curves (and markers) over numbered
// axes, a title, axis labels and a legend. The training curve (cli/outputs.cpp
// write_training_curve, curve.png) is one.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "plot_canvas.hpp"

namespace fz {

struct LineSeries {
  std::string name;         // the legend's text ("" = not in the legend)
  std::vector<double> x, y;  // the same length; a non-finite point breaks the line
  Colour colour = kBlack;
  double line_width = 2;    // 0 = no line (markers only)
  double opacity = 1;       // a faint raw curve under its smoothed one
  bool markers = false;     // a dot at every point
};

struct LineChart {
  std::string title, x_label, y_label;
  bool log_y = false;  // logarithmic y axis (non-positive values are left out)
  std::vector<LineSeries> series;
  // Series whose values set the y range (empty = all): a noisy raw curve may leave it and is
  // clipped at the frame instead of squashing the others.
  std::vector<std::size_t> range_from;
};

// The chart as (3, height, width) RGB. Throws std::invalid_argument for series whose x and y
// differ in length or a picture too small for the axes.
TensorU8 line_chart_image(const LineChart& chart, int width = 800, int height = 480);
void write_line_chart_png(const std::string& path, const LineChart& chart, int width = 800, int height = 480);

// The palette of the charts: k = 0 blue, 1 orange, 2 green, 3 red, ... (cycling over 10).
Colour chart_colour(std::size_t k);

}  // namespace fz
