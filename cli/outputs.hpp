// cli/outputs.hpp — the pictures a run leaves behind: sample grids (images) or scatter plots
// (2-D data) at several temperatures, the learned 2-D density as a heat map with a colour bar
// (and CSV), and the training curve read back from metrics.csv. Each carries its text (title,
// axes, labels): the drawing is in datasets/plot_*.hpp and datasets/labelled_grid.hpp.
#pragma once

#include <string>
#include <vector>

#include "cli/run_config.hpp"
#include "cli/run_data.hpp"
#include "datasets/image_write.hpp"
#include "datasets/labelled_grid.hpp"
#include "flows/trainer.hpp"

namespace fz::cli {

// First n rows of a batch-first uint8 tensor.
TensorU8 slice_rows(const TensorU8& x, std::size_t begin, std::size_t end);

// "realnvp on moons", "glow on fashion-mnist": what a picture's title says the run is.
std::string run_title(const RunConfig& config);
// "T = 0.7"
std::string temperature_label(double t);

// How the pictures are drawn (train's defaults; `sample`, `density`, `latents` set them by flag).
struct PictureOptions {
  int upscale = 2;                      // image tiles: each pixel as upscale x upscale pixels
  PlotRange range{-4, 4, -4, 4};        // 2-D pictures: the area shown
  bool log_density = false;             // density: colour by log p instead of p
};

// Images (N, C, H, W) in [0, 1] as a labelled table of `columns` per row (the last row may be
// short): row labels ("" each, or one per row), column labels ("" each, or one per column).
// Returns where the tiles landed (latents.json records it, so a tile can be cut out again).
LabelledGridLayout write_image_table(const std::string& path, const std::string& title, const Tensor<float>& images,
                       std::size_t columns, std::vector<std::string> row_labels,
                       std::vector<std::string> column_labels, int upscale, const std::string& footer = "");

// Writes <dir>/samples_<tag>_T<t>.png for each temperature (averaged weights if any): an image
// grid or a 2-D scatter, its title naming the run, the temperature and `when` ("step 1000").
void write_samples(FlowModel<float>& model, Trainer<float>& trainer, const RunData& data, const RunConfig& config,
                   const std::string& dir, const std::string& tag, const std::string& when,
                   const std::vector<double>& temperatures, std::uint64_t seed, std::size_t n = 64,
                   const PictureOptions& options = {});

// Class-conditional runs: the class names of the run's dataset (Fashion-MNIST's "T-shirt/top",
// ..., MNIST's digits, CIFAR-10's, else "class 0", "class 1", ...), config.model.classes of them.
std::vector<std::string> class_names_of(const RunConfig& config);
// A class grid: for each class one row of `per_row` samples drawn from that class's prior at
// temperature t, labelled with its name (averaging and eval mode are the caller's).
void write_class_grid(FlowModel<float>& model, const RunConfig& config, const std::string& path,
                      const std::string& title, std::size_t per_row, double temperature, Rng& rng, int upscale);

// Heat map PNG of the density over [lo, hi]^2 on a grid x grid lattice with axes and a colour
// bar (options.log_density: of log p); optional CSV x,y,log_prob.
void write_density(FlowModel<float>& model, Trainer<float>& trainer, const std::string& png, const std::string& csv,
                   double lo, double hi, std::size_t grid, const std::string& title, bool log_density = false);

// The training curve's smoothing: an exponential moving average whose window (in metrics rows)
// is 2% of the run's rows, at least 1 (no smoothing) and at most 200, so a short run's curve
// does not lag behind its points and a long one's noise is averaged away. The decay of a
// window of N rows is 1 - 2 / (N + 1) (the usual span of an EMA).
std::size_t curve_smoothing_window(std::size_t rows);
std::vector<double> smooth_curve(const std::vector<double>& y, std::size_t window);

struct CurveLabels {
  std::string title;     // "glow on fashion-mnist: training curve"
  std::string y_label;   // "bits/dim" or "NLL (nats)"
  bool log_y = false;
};
// Plots metrics.csv into a PNG: the train loss (raw, faint, and smoothed), the test points
// with markers, tick numbers, axis labels, title and legend.
void write_training_curve(const std::string& metrics_csv, const std::string& png, const CurveLabels& labels);

}  // namespace fz::cli
