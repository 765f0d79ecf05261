// cli/outputs.cpp — sample grids and scatters, density heat maps and the training curve, each
// with its title and labels (the drawing itself: datasets/plot_*.hpp, datasets/labelled_grid.hpp).
#include "cli/outputs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "datasets/fashion_mnist.hpp"
#include "datasets/labelled_grid.hpp"
#include "datasets/plot_heat_map.hpp"
#include "datasets/plot_line_chart.hpp"
#include "datasets/plot_scatter.hpp"
#include "tensor/layout.hpp"

namespace fz::cli {

namespace {
std::string temperature_tag(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", t);
  return buf;
}
}  // namespace

TensorU8 slice_rows(const TensorU8& x, std::size_t begin, std::size_t end) {
  return slice(x, 0, static_cast<long>(begin), static_cast<long>(end));
}

std::string run_title(const RunConfig& config) {
  return config.model.model + " on " + (config.is_toy() ? config.density : config.dataset);
}

std::string temperature_label(double t) { return "T = " + temperature_tag(t); }

LabelledGridLayout write_image_table(const std::string& path, const std::string& title, const Tensor<float>& images,
                       std::size_t columns, std::vector<std::string> row_labels,
                       std::vector<std::string> column_labels, int upscale, const std::string& footer) {
  LabelledGrid grid = image_table(title, to_uint8_images(images, 0.0, 1.0), columns, std::move(row_labels),
                                  std::move(column_labels));
  grid.upscale = upscale;
  grid.padding = 4;
  grid.footer = footer;
  write_labelled_grid_png(path, grid);
  return labelled_grid_layout(grid);
}

void write_samples(FlowModel<float>& model, Trainer<float>& trainer, const RunData& data, const RunConfig& config,
                   const std::string& dir, const std::string& tag, const std::string& when,
                   const std::vector<double>& temperatures, std::uint64_t seed, std::size_t n,
                   const PictureOptions& options) {
  NoGradGuard no_grad;
  model.eval();
  std::unique_ptr<EmaScope<float>> averaged;
  if (trainer.ema()) averaged = std::make_unique<EmaScope<float>>(*trainer.ema());
  for (double t : temperatures) {
    Rng rng(seed, 1000 + static_cast<std::uint64_t>(t * 1000));
    const std::string path = dir + "/samples_" + tag + "_T" + temperature_tag(t) + ".png";
    const std::string title = run_title(config) + ": samples at " + temperature_label(t) + ", " + when;
    if (data.toy) {
      ScatterPlot plot;
      plot.title = title;
      plot.range = options.range;
      plot.points = model.sample(std::max<std::size_t>(n, 2000), static_cast<float>(t), rng).cast<double>();
      write_scatter_plot_png(path, plot);
    } else if (model.classes()) {  // a row per class
      write_class_grid(model, config, path, title, 8, t, rng, options.upscale);
    } else {
      const std::size_t cols = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
      write_image_table(path, title, model.sample(n, static_cast<float>(t), rng), cols, {}, {}, options.upscale);
    }
  }
  model.train();
}

std::vector<std::string> class_names_of(const RunConfig& config) {
  static const char* const kCifar10[] = {"airplane", "automobile", "bird", "cat",  "deer",
                                         "dog",      "frog",       "horse", "ship", "truck"};
  const std::size_t k = config.model.classes;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < k; ++i) {
    if (config.dataset == "fashion-mnist" && k == fashion_mnist_class_names().size())
      names.push_back(fashion_mnist_class_names()[i]);
    else if (config.dataset == "mnist" && k == 10) names.push_back(std::to_string(i));
    else if (config.dataset == "cifar10" && k == 10) names.push_back(kCifar10[i]);
    else names.push_back("class " + std::to_string(i));
  }
  return names;
}

void write_class_grid(FlowModel<float>& model, const RunConfig& config, const std::string& path,
                      const std::string& title, std::size_t per_row, double temperature, Rng& rng, int upscale) {
  const std::size_t k = model.classes();
  IndexTensor labels{{k * per_row}, {}};
  for (std::size_t c = 0; c < k; ++c) labels.values.insert(labels.values.end(), per_row, c);
  write_image_table(path, title, model.sample(labels, static_cast<float>(temperature), rng), per_row,
                    class_names_of(config), {}, upscale, "each row: samples drawn from that class's priors (its per-class means and log-sds of every latent)");
}

void write_density(FlowModel<float>& model, Trainer<float>& trainer, const std::string& png, const std::string& csv,
                   double lo, double hi, std::size_t grid, const std::string& title, bool log_density) {
  if (model.event_shape() != Shape{2}) throw std::invalid_argument("density: the model is not a 2-D model");
  if (!(hi > lo)) throw std::invalid_argument("density: --range needs LO < HI");
  if (grid < 2 || grid > 4000) throw std::invalid_argument("density: --grid must be between 2 and 4000");
  NoGradGuard no_grad;
  model.eval();
  std::unique_ptr<EmaScope<float>> averaged;
  if (trainer.ema()) averaged = std::make_unique<EmaScope<float>>(*trainer.ema());
  const PlotRange range{lo, hi, lo, hi};
  const Tensor<double> pts = density_grid(range, grid, grid);
  const Tensor<float> lp = model.log_prob(Var<float>(pts.cast<float>())).value();
  HeatMapPlot plot;
  plot.title = title;
  plot.range = range;
  plot.log_prob = lp.cast<double>().reshape({grid, grid});
  plot.log_scale = log_density;
  write_heat_map_png(png, plot);
  if (!csv.empty()) {
    std::ofstream out(csv);
    if (!out) throw std::runtime_error("cannot write '" + csv + "'");
    out << "x,y,log_prob\n";
    for (std::size_t i = 0; i < lp.numel(); ++i) out << pts[2 * i] << ',' << pts[2 * i + 1] << ',' << lp[i] << '\n';
  }
  model.train();
}

std::size_t curve_smoothing_window(std::size_t rows) {
  return std::clamp<std::size_t>(rows / 50, 1, 200);
}

std::vector<double> smooth_curve(const std::vector<double>& y, std::size_t window) {
  const double decay = 1.0 - 2.0 / (static_cast<double>(std::max<std::size_t>(window, 1)) + 1.0);
  std::vector<double> out(y.size());
  // Bias-corrected (as Adam's moments): the first points average what is there instead of
  // being pulled towards the first value.
  double avg = 0, weight = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) {
      out[i] = y[i];
      continue;
    }
    avg = decay * avg + (1 - decay) * y[i];
    weight = decay * weight + (1 - decay);
    out[i] = avg / weight;
  }
  return out;
}

void write_training_curve(const std::string& metrics_csv, const std::string& png, const CurveLabels& labels) {
  std::ifstream in(metrics_csv);
  if (!in) throw std::runtime_error("cannot read '" + metrics_csv + "'");
  std::string line;
  std::getline(in, line);  // header
  LineSeries raw, test;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<std::string> cells;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (cells.size() < 3) continue;
    // A recovered divergence (event column set) has the offending loss: not part of the curve.
    if (cells.size() >= 7 && !cells[6].empty()) continue;
    const double step = std::stod(cells[0]);
    raw.x.push_back(step);
    raw.y.push_back(std::stod(cells[2]));
    if (cells.size() >= 6 && !cells[5].empty()) {
      test.x.push_back(step);
      test.y.push_back(std::stod(cells[5]));
    }
  }
  const std::size_t window = curve_smoothing_window(raw.y.size());
  LineSeries smooth = raw;
  smooth.y = smooth_curve(raw.y, window);
  smooth.name = window > 1 ? "train (smoothed over ~" + std::to_string(window) + " steps)" : "train";
  smooth.colour = chart_colour(0);
  raw.colour = chart_colour(0);
  raw.opacity = 0.25;
  raw.line_width = 1;
  test.name = "test";
  test.colour = chart_colour(1);
  test.markers = true;
  LineChart chart;
  chart.title = labels.title;
  chart.x_label = "step";
  chart.y_label = labels.y_label;
  chart.log_y = labels.log_y;
  // The raw curve only when smoothing changed it; the range follows the smoothed curve and the
  // test points, so early spikes of the raw loss leave the frame instead of flattening the rest.
  if (window > 1) chart.series.push_back(raw);
  chart.series.push_back(smooth);
  chart.range_from = {chart.series.size() - 1};
  if (!test.x.empty()) {
    chart.series.push_back(test);
    chart.range_from.push_back(chart.series.size() - 1);
  }
  write_line_chart_png(png, chart);
}

}  // namespace fz::cli
