// cli/outputs.hpp — the pictures a run leaves behind: sample grids (images) or scatter plots
// (2-D data) at several temperatures, the learned 2-D density as a heatmap (and CSV), and the
// training curve read back from metrics.csv.
#pragma once

#include <string>
#include <vector>

#include "cli/run_data.hpp"
#include "flows/trainer.hpp"

namespace fz::cli {

// First n rows of a batch-first uint8 tensor.
TensorU8 slice_rows(const TensorU8& x, std::size_t begin, std::size_t end);

// Writes <dir>/samples_<tag>_T<t>.png for each temperature (averaged weights if any).
void write_samples(FlowModel<float>& model, Trainer<float>& trainer, const RunData& data, const std::string& dir,
                   const std::string& tag, const std::vector<double>& temperatures, std::uint64_t seed,
                   std::size_t n = 64);

// Heatmap PNG of exp(log p) over [lo, hi]^2 on a grid x grid lattice; optional CSV x,y,log_prob.
void write_density(FlowModel<float>& model, Trainer<float>& trainer, const std::string& png, const std::string& csv,
                   double lo, double hi, std::size_t grid);

// Plots train loss (and test points when present) from metrics.csv into a PNG.
void write_training_curve(const std::string& metrics_csv, const std::string& png);

}  // namespace fz::cli
