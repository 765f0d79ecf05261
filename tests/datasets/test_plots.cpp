// tests/datasets/test_plots.cpp — the charts with text (datasets/plot_*.hpp): their sizes, tick
// values and numbers, text pixels where the title, tick numbers, axis labels, legend and colour
// bar go, colours where the data are, and refusals of bad input.
#include <catch2/catch.hpp>

#include <cmath>

#include "datasets/labelled_grid.hpp"
#include "datasets/plot_axes.hpp"
#include "datasets/plot_heat_map.hpp"
#include "datasets/plot_line_chart.hpp"
#include "datasets/plot_scatter.hpp"
#include "tests/picture_ink.hpp"

using namespace fz;

namespace {

using fz::test::inked;

// The RGB of pixel (x, y).
Colour at(const TensorU8& img, int x, int y) {
  const std::size_t h = img.shape()[1], w = img.shape()[2], i = static_cast<std::size_t>(y) * w + x;
  return {img[i], img[h * w + i], img[2 * h * w + i]};
}

}  // namespace

TEST_CASE("plot axes: round ticks, numbers with the decimals their step needs", "[datasets][plots]") {
  CHECK(axis_ticks({0, 1}) == std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1});
  const std::vector<double> steps = axis_ticks({0, 2000});
  REQUIRE(steps.size() == 5);
  CHECK(steps.front() == 0);
  CHECK(steps.back() == 2000);
  CHECK(axis_ticks({-4, 4}).size() == 9);  // -4 .. 4 by 1
  CHECK(axis_ticks({1, 1e4, true}) == std::vector<double>{1, 10, 100, 1000, 10000});
  CHECK(axis_ticks({0.4, 80, true}) == std::vector<double>{0.5, 1, 2, 5, 10, 20, 50});
  CHECK(axis_ticks({1.5, 9, true}) == std::vector<double>{2, 3, 4, 5, 6, 7, 8, 9});  // 2, 5 alone: too few
  CHECK(axis_ticks({1, 0}).empty());
  CHECK(tick_text(0.25, 0.05) == "0.25");
  CHECK(tick_text(1500, 500) == "1500");
  CHECK(tick_text(-3, 1) == "-3");
  CHECK(tick_text(0.4, 0.2) == "0.4");
  CHECK(tick_text(0, 0.2) == "0");
  CHECK(tick_text(2e-7, 1e-7) == "2e-07");
  const AxisSpec fitted = fit_axis({1, 3, std::nan("")}, false);
  CHECK(fitted.lo == Approx(0.9));
  CHECK(fitted.hi == Approx(3.1));
  const AxisSpec flat = fit_axis({2, 2}, false);
  CHECK(flat.lo < 2);
  CHECK(flat.hi > 2);
  PlotCanvas c(300, 200);
  CHECK_THROWS_WITH(draw_axes(c, {0, 1}, {1, 1}, {}), Catch::Contains("y axis"));
  CHECK_THROWS_WITH(draw_axes(c, {0, 1}, {0, 1, true}, {}), Catch::Contains("positive"));
}

TEST_CASE("line chart: the size asked for, text in the title, tick and label margins, a legend",
          "[datasets][plots]") {
  LineChart chart;
  chart.title = "realnvp on moons: training curve";
  chart.x_label = "step";
  chart.y_label = "NLL (nats)";
  LineSeries train{"train", {}, {}, chart_colour(0)};
  for (int i = 1; i <= 200; ++i) {
    train.x.push_back(i);
    train.y.push_back(3.0 / std::sqrt(i));
  }
  LineSeries test{"test", {50, 100, 150, 200}, {0.5, 0.35, 0.3, 0.25}, chart_colour(1)};
  test.markers = true;
  chart.series = {train, test};
  const TensorU8 img = line_chart_image(chart, 640, 400);
  REQUIRE(img.shape() == Shape{3, 400, 640});
  CHECK(inked(img, 150, 0, 490, 30) > 200);  // the title, centred at the top
  CHECK(inked(img, 0, 100, 16, 300) > 40);   // the vertical y label at the left edge
  CHECK(inked(img, 20, 40, 48, 360) > 100);  // y tick numbers
  CHECK(inked(img, 200, 374, 440, 400) > 60);  // "step" under the x tick numbers
  CHECK(inked(img, 60, 360, 640, 374) > 100);  // x tick numbers
  // The legend box in the upper right of the plot area: the train colour's line sample in it.
  bool blue = false;
  for (int y = 40; y < 100 && !blue; ++y)
    for (int x = 500; x < 630 && !blue; ++x) {
      const Colour p = at(img, x, y);
      blue = p.r == 31 && p.g == 119 && p.b == 180;
    }
  CHECK(blue);
  // Log axis: still draws; a series of mismatched length is refused.
  chart.log_y = true;
  CHECK(line_chart_image(chart, 640, 400).shape() == Shape{3, 400, 640});
  chart.series[1].y.pop_back();
  CHECK_THROWS_WITH(line_chart_image(chart), Catch::Contains("'test' has 4 x values but 3 y values"));
  CHECK_THROWS_AS(line_chart_image(LineChart{}, 60, 40), std::invalid_argument);  // no room for the axes
}

TEST_CASE("heat map: viridis inside the axes, a colour bar from dark to yellow with its numbers",
          "[datasets][plots]") {
  HeatMapPlot plot;
  plot.title = "density";
  plot.range = {-4, 4, -4, 4};
  const std::size_t n = 40;
  plot.log_prob = Tensor<double>({n, n});
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < n; ++c) {
      const double x = -4 + (c + 0.5) * 0.2, y = 4 - (r + 0.5) * 0.2;
      plot.log_prob[r * n + c] = -0.5 * (x * x + y * y) - std::log(2 * M_PI);
    }
  const ColourScale linear = heat_map_scale(plot);
  CHECK(linear.lo == 0);
  CHECK(linear.hi == Approx(std::exp(-0.5 * 0.02) / (2 * M_PI)).epsilon(1e-6));
  plot.log_scale = true;
  const ColourScale logs = heat_map_scale(plot);
  CHECK(logs.hi == Approx(-0.01 - std::log(2 * M_PI)));
  CHECK(logs.lo == Approx(logs.hi - 10));
  plot.log_scale = false;
  const TensorU8 img = heat_map_image(plot, 640, 560);
  REQUIRE(img.shape() == Shape{3, 560, 640});
  CHECK(inked(img, 200, 0, 440, 32) > 100);  // title
  // The centre of the plot area is the density's peak: viridis' yellow end.
  const Colour peak = at(img, 290, 290);
  CHECK(peak.r > 200);
  CHECK(peak.g > 200);
  CHECK(peak.b < 100);
  // The colour bar: find its column (dark purple at its bottom, yellow at its top, right of
  // the plot area) and text right of it.
  int bar_x = -1;
  for (int x = 560; x >= 440 && bar_x < 0; --x) {
    const Colour top = at(img, x, 60), bottom = at(img, x, 480);
    if (top.r > 200 && top.g > 200 && top.b < 100 && bottom.r < 100 && bottom.b > 60) bar_x = x;
  }
  REQUIRE(bar_x > 0);
  CHECK(inked(img, bar_x + 6, 40, 640, 520) > 300);  // its tick numbers and "density p(x, y)"
  plot.log_range = 0;
  CHECK_THROWS_AS(heat_map_image(plot), std::invalid_argument);
  plot.log_range = 10;
  plot.range = {};
  CHECK_THROWS_WITH(heat_map_image(plot), Catch::Contains("range"));
}

TEST_CASE("scatter plot: points inside the axes, the outside ones counted, text in the margins",
          "[datasets][plots]") {
  ScatterPlot plot;
  plot.title = "samples at T = 1";
  plot.range = {-1, 1, -1, 1};
  plot.points = Tensor<double>({3, 2}, {0.5, 0.5, -0.5, -0.25, 5, 0});
  CHECK(points_outside(plot.points, plot.range) == 1);
  const TensorU8 img = scatter_plot_image(plot, 400, 400);
  REQUIRE(img.shape() == Shape{3, 400, 400});
  CHECK(inked(img, 120, 0, 330, 30) > 100);  // title
  CHECK(inked(img, 0, 40, 50, 350) > 60);    // y ticks and label
  // A dot near (0.5, 0.5): the dot colour (blue dominant) somewhere in the upper right quadrant.
  std::size_t blue = 0;
  for (int y = 40; y < 200; ++y)
    for (int x = 220; x < 390; ++x) {
      const Colour p = at(img, x, y);
      blue += p.b > p.r + 40;
    }
  CHECK(blue > 3);
  plot.points = Tensor<double>({3, 3});
  CHECK_THROWS_WITH(scatter_plot_image(plot), Catch::Contains("(n, 2)"));
}

TEST_CASE("labelled grid: upscale draws each pixel as a block, the layout says where tiles are",
          "[datasets][plots][labelled_grid]") {
  TensorU8 images({2, 1, 2, 2}, {0, 50, 100, 150, 200, 210, 220, 230});
  LabelledGrid g;
  g.title = "samples";
  g.cells = grid_rows(images, 2);
  g.row_labels = {"T = 1"};
  g.column_labels = {"a", "b"};
  g.upscale = 3;
  const LabelledGridLayout l = labelled_grid_layout(g);
  const TensorU8 img = labelled_grid_image(g);
  REQUIRE(img.shape() == Shape{3, static_cast<std::size_t>(l.height), static_cast<std::size_t>(l.width)});
  CHECK(l.cell_width == 6);
  // Tile 0's pixel (1, 0) = 50 fills the 3x3 block at (left + 3, top).
  for (int dy = 0; dy < 3; ++dy)
    for (int dx = 0; dx < 3; ++dx) CHECK(at(img, l.cell_x(0) + 3 + dx, l.cell_y(0) + dy).g == 50);
  CHECK(at(img, l.cell_x(1) + 5, l.cell_y(0) + 5).r == 230);
  CHECK(inked(img, 0, l.cell_y(0), l.left - 2, l.cell_y(0) + 6) > 5);  // the row label
  g.upscale = 0;
  CHECK_THROWS_WITH(labelled_grid_layout(g), Catch::Contains("upscale"));
  g.upscale = 1;
  g.column_notes = {"one"};
  CHECK_THROWS_WITH(labelled_grid_layout(g), Catch::Contains("column notes"));
  CHECK_THROWS_AS(grid_rows(TensorU8({2, 2, 2, 2}), 2), std::invalid_argument);  // 2 channels
}
