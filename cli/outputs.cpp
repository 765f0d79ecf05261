// cli/outputs.cpp — sample grids, density heatmaps and the training curve.
#include "cli/outputs.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "datasets/image_write.hpp"
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

void write_samples(FlowModel<float>& model, Trainer<float>& trainer, const RunData& data, const std::string& dir,
                   const std::string& tag, const std::vector<double>& temperatures, std::uint64_t seed, std::size_t n) {
  NoGradGuard no_grad;
  model.eval();
  std::unique_ptr<EmaScope<float>> averaged;
  if (trainer.ema()) averaged = std::make_unique<EmaScope<float>>(*trainer.ema());
  for (double t : temperatures) {
    Rng rng(seed, 1000 + static_cast<std::uint64_t>(t * 1000));
    const std::string path = dir + "/samples_" + tag + "_T" + temperature_tag(t) + ".png";
    if (data.toy) {
      const Tensor<float> pts = model.sample(std::max<std::size_t>(n, 2000), static_cast<float>(t), rng);
      write_scatter_png(path, pts, 512, 512, PlotRange{-4, 4, -4, 4});
    } else {
      write_image_grid(path, model.sample(n, static_cast<float>(t), rng), 0.0, 1.0);
    }
  }
  model.train();
}

void write_density(FlowModel<float>& model, Trainer<float>& trainer, const std::string& png, const std::string& csv,
                   double lo, double hi, std::size_t grid) {
  if (model.event_shape() != Shape{2}) throw std::invalid_argument("density: the model is not a 2-D model");
  if (!(hi > lo)) throw std::invalid_argument("density: --range needs LO < HI");
  if (grid < 2 || grid > 4000) throw std::invalid_argument("density: --grid must be between 2 and 4000");
  NoGradGuard no_grad;
  model.eval();
  std::unique_ptr<EmaScope<float>> averaged;
  if (trainer.ema()) averaged = std::make_unique<EmaScope<float>>(*trainer.ema());
  const Tensor<double> pts = density_grid(PlotRange{lo, hi, lo, hi}, grid, grid);
  const Tensor<float> lp = model.log_prob(Var<float>(pts.cast<float>())).value();
  write_density_png(png, lp.reshape({grid, grid}));
  if (!csv.empty()) {
    std::ofstream out(csv);
    if (!out) throw std::runtime_error("cannot write '" + csv + "'");
    out << "x,y,log_prob\n";
    for (std::size_t i = 0; i < lp.numel(); ++i) out << pts[2 * i] << ',' << pts[2 * i + 1] << ',' << lp[i] << '\n';
  }
  model.train();
}

void write_training_curve(const std::string& metrics_csv, const std::string& png) {
  std::ifstream in(metrics_csv);
  if (!in) throw std::runtime_error("cannot read '" + metrics_csv + "'");
  std::string line;
  std::getline(in, line);  // header
  PlotSeries train, test;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<std::string> cells;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (cells.size() < 3) continue;
    // A recovered divergence (event column set) has the offending loss: not part of the curve.
    if (cells.size() >= 7 && !cells[6].empty()) continue;
    const double step = std::stod(cells[0]);
    train.x.push_back(step);
    train.y.push_back(std::stod(cells[2]));
    if (cells.size() >= 6 && !cells[5].empty()) {
      test.x.push_back(step);
      test.y.push_back(std::stod(cells[5]));
    }
  }
  // A running mean keeps the train curve readable.
  PlotSeries smooth = train;
  double avg = 0;
  for (std::size_t i = 0; i < smooth.y.size(); ++i) {
    avg = i == 0 ? smooth.y[i] : 0.98 * avg + 0.02 * smooth.y[i];
    smooth.y[i] = avg;
  }
  std::vector<PlotSeries> series = {smooth};
  if (!test.x.empty()) series.push_back(test);
  write_line_plot_png(png, series);
}

}  // namespace fz::cli
