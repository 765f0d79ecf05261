// cli/zoo.cpp — `flowzoo zoo`: the gallery. Every flow family is trained on every toy 2-D
// density with the same step budget and the same recipe; the result is a table of test NLLs
// (zoo.csv) and a picture (zoo.png: rows = families, columns = densities, the data itself in
// the first row, each cell the learned density exp(log p) as a viridis heatmap).
//
// Each (family, density) run: the family's 2-D preset (flows/presets.cpp), Adam at the toy
// recipe (cli/run_config.cpp default_training_recipe), batch 512 of fresh samples per step and
// the test NLL on 20,000 fresh samples, both from the streams `train --dataset toy` draws
// (RunData::toy_batch / toy_test in cli/run_data.cpp). zoo.csv gets its
// row as soon as a run ends and zoo.png is redrawn after each family, so an interrupted
// gallery keeps what it finished; a run that diverges is recorded with its error, and the
// gallery goes on.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "cli/commands.hpp"
#include "cli/flag_checks.hpp"
#include "cli/interrupt.hpp"
#include "cli/run_data.hpp"
#include "datasets/image_write.hpp"
#include "datasets/labelled_grid.hpp"
#include "datasets/toy2d.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "tensor/atomic_file.hpp"
#include "tensor/parallel.hpp"
#include "tensor/printable.hpp"

namespace fz::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kCellPixels = 112;   // each heatmap is kCellPixels x kCellPixels
constexpr std::size_t kTestSamples = 20000;
constexpr std::size_t kTrainBatch = 512;

// One row of the gallery: a label and the preset it trains.
struct ZooFamily {
  std::string label;
  PresetConfig preset;
  // Left out of the default gallery (they are in it with --families all or by name): a step of
  // resflow or ffjord costs 10-25x a coupling flow's, so their 14 cells alone would take
  // ~15-30 minutes at the default 2000 steps.
  bool slow = false;
};

std::vector<ZooFamily> zoo_families() {
  auto family = [](const std::string& label, const std::string& model, const std::string& transformer = "") {
    ZooFamily f{label, PresetConfig{}};
    f.preset.model = model;
    f.preset.event_shape = {2};
    f.preset.transformer = transformer;
    // The toy densities reach |x| = 4 (checkerboard, 8 gaussians): a spline on [-3, 3] (the
    // CLI's default) leaves their outer parts on its identity tails, where they keep the base's
    // density (nsf checkerboard, 2000 steps: test NLL 5.62 with B = 3, 3.53 with B = 5).
    if (model == "nsf" || transformer == "spline") f.preset.tail_bound = 5.0;
    return f;
  };
  auto slow_family = [&family](const std::string& label, const std::string& model) {
    ZooFamily f = family(label, model);
    f.slow = true;
    return f;
  };
  return {family("NICE additive", "nice"), family("RealNVP affine", "realnvp"),
          family("Glow-style 2-D", "glow"), family("NSF spline coupling", "nsf"),
          family("MAF affine", "maf", "affine"), family("MAF spline", "maf", "spline"),
          slow_family("Residual flow", "resflow"), slow_family("FFJORD (CNF)", "ffjord")};
}

// A square box around the density's samples (10% margin): every cell of a column shares it.
PlotRange box_of(const Tensor<float>& pts) {
  double lo[2] = {1e300, 1e300}, hi[2] = {-1e300, -1e300};
  for (std::size_t i = 0; i < pts.shape()[0]; ++i)
    for (int d = 0; d < 2; ++d) {
      lo[d] = std::min(lo[d], static_cast<double>(pts[2 * i + d]));
      hi[d] = std::max(hi[d], static_cast<double>(pts[2 * i + d]));
    }
  const double half = 0.55 * std::max(hi[0] - lo[0], hi[1] - lo[1]);
  const double cx = (lo[0] + hi[0]) / 2, cy = (lo[1] + hi[1]) / 2;
  return {cx - half, cx + half, cy - half, cy + half};
}

// The data row: log of a 2-D histogram of the samples on the cell grid (empty bins -inf, the
// heatmap's lowest colour).
TensorU8 histogram_cell(const Tensor<float>& pts, const PlotRange& box) {
  const std::size_t n = kCellPixels;
  Tensor<double> counts({n, n}, 0.0);
  for (std::size_t i = 0; i < pts.shape()[0]; ++i) {
    const double fx = (pts[2 * i] - box.xmin) / (box.xmax - box.xmin);
    const double fy = (box.ymax - pts[2 * i + 1]) / (box.ymax - box.ymin);  // row 0 at the top
    if (fx < 0 || fx >= 1 || fy < 0 || fy >= 1) continue;
    counts[static_cast<std::size_t>(fy * n) * n + static_cast<std::size_t>(fx * n)] += 1;
  }
  for (std::size_t i = 0; i < n * n; ++i) counts[i] = std::log(counts[i]);  // log 0 = -inf
  return density_heatmap(counts);
}

// The learned density on the cell grid.
TensorU8 density_cell(FlowModel<float>& model, const PlotRange& box) {
  NoGradGuard no_grad;
  model.eval();
  const Tensor<double> grid = density_grid(box, kCellPixels, kCellPixels);
  const Tensor<float> lp = model.log_prob(Var<float>(grid.cast<float>())).value();
  model.train();
  return density_heatmap(lp.reshape({kCellPixels, kCellPixels}));
}

}  // namespace

std::vector<std::string> zoo_family_labels() {
  std::vector<std::string> labels;
  for (const ZooFamily& f : zoo_families()) labels.push_back(f.label);
  return labels;
}

int run_zoo(const ZooRequest& req) {
  if (req.steps == 0) throw FlagError("--steps must be at least 1");
  std::vector<std::string> densities = req.densities;
  if (densities.empty() || (densities.size() == 1 && densities[0] == "all")) densities = toy2d_names();
  std::vector<Toy2D> kinds;
  for (const std::string& d : densities)
    as_flag_error([&] { kinds.push_back(toy2d_from_name(d)); });  // a FlagError naming the valid ones
  std::vector<ZooFamily> families = zoo_families();
  const bool every_family = req.families.size() == 1 && req.families[0] == "all";
  if (req.families.empty()) {  // the default gallery: the fast families
    std::vector<ZooFamily> fast;
    for (const ZooFamily& f : families)
      if (!f.slow) fast.push_back(f);
    families = fast;
  } else if (!every_family) {
    std::vector<ZooFamily> chosen;
    for (const std::string& want : req.families) {
      bool found = false;
      for (const ZooFamily& f : families)
        if (f.label == want || f.preset.model == want) {
          chosen.push_back(f);
          found = true;
        }
      if (!found) {
        std::string known;
        for (const std::string& l : zoo_family_labels()) known += (known.empty() ? "" : ", ") + l;
        throw FlagError("--families: unknown family '" + want + "' (known: " + known + ")");
      }
    }
    families = chosen;
  }
  if (req.threads > 0) set_num_threads(req.threads);
  fs::create_directories(req.out_dir);
  const std::string csv_path = (fs::path(req.out_dir) / "zoo.csv").string();
  const std::string png_path = (fs::path(req.out_dir) / "zoo.png").string();

  LabelledGrid picture;
  picture.title = "flowzoo zoo: each family trained " + std::to_string(req.steps) + " steps (batch " +
                  std::to_string(kTrainBatch) + ") on each density";
  picture.footer = "colour: viridis from 0 (dark) to each cell's own maximum density (yellow)\ndata row: log of a "
                   "histogram of " + std::to_string(kTestSamples) + " samples; test NLLs in zoo.csv";
  picture.row_labels.push_back("data");
  std::vector<PlotRange> boxes;
  std::vector<TensorU8> data_row;
  for (std::size_t c = 0; c < kinds.size(); ++c) {
    picture.column_labels.push_back(toy2d_name(kinds[c]));
    const Tensor<float> pts = sample_toy2d<float>(kinds[c], kTestSamples, req.seed * 7919 + 0xD47A);
    boxes.push_back(box_of(pts));
    const PlotRange& b = boxes.back();
    picture.column_notes.push_back("x " + format_significant(b.xmin, 2) + ".." + format_significant(b.xmax, 2) + "\ny " +
                                   format_significant(b.ymin, 2) + ".." + format_significant(b.ymax, 2));
    data_row.push_back(histogram_cell(pts, boxes.back()));
  }
  picture.cells.push_back(data_row);

  std::string csv = "family,density,test_nll,seconds,error\n";
  replace_file_atomically(csv_path, csv);
  const std::size_t total = families.size() * kinds.size();
  std::size_t done = 0;
  for (const ZooFamily& family : families) {
    picture.row_labels.push_back(family.label);
    picture.cells.emplace_back();
    for (std::size_t c = 0; c < kinds.size(); ++c) {
      if (interrupt_requested()) break;
      const auto start = std::chrono::steady_clock::now();
      Rng init_rng(req.seed);
      auto model = make_flow<float>(family.preset, init_rng);
      // The recipe and data streams of `flowzoo train --dataset toy` (cli/run_config.cpp,
      // cli/run_data.cpp), so a cell is the same run `train` would make.
      const TrainingRecipe recipe = default_training_recipe(family.preset.model, "toy");
      TrainerOptions options;
      options.lr = recipe.lr;
      options.warmup_steps = recipe.warmup_steps;
      options.clip_grad_norm = recipe.clip_grad_norm;
      Trainer<float> trainer(model, options, req.seed);
      RunData data;
      data.toy = true;
      data.density = kinds[c];
      data.seed = req.seed;
      data.event_shape = {2};
      std::string error;
      double nll = std::nan("");
      try {
        for (std::size_t s = 0; s < req.steps && !interrupt_requested(); ++s)
          trainer.step_continuous(data.toy_batch(s, kTrainBatch));
        nll = trainer.evaluate_continuous(data.toy_test(kTestSamples), 4096);
      } catch (const std::exception& e) {
        error = e.what();
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      picture.cells.back().push_back(error.empty() ? density_cell(*model, boxes[c]) : TensorU8());
      ++done;
      std::string quoted = error;
      for (char& ch : quoted)
        if (ch == '"' || ch == '\n') ch = '\'';
      csv += family.label + "," + toy2d_name(kinds[c]) + "," + (error.empty() ? format_significant(nll, 6) : "") + "," +
             format_significant(seconds, 4) + "," + (error.empty() ? "" : "\"" + quoted + "\"") + "\n";
      replace_file_atomically(csv_path, csv);
      if (!req.quiet)
        std::printf("zoo [%zu/%zu] %-16s %-13s %s  %.1f s\n", done, total, family.label.c_str(),
                    toy2d_name(kinds[c]).c_str(), error.empty() ? ("test NLL " + format_significant(nll, 5)).c_str() : ("failed: " + error).c_str(),
                    seconds);
      std::fflush(stdout);
    }
    while (picture.cells.back().size() < kinds.size()) picture.cells.back().emplace_back();  // interrupted row
    write_labelled_grid_png(png_path, picture);
    if (interrupt_requested()) break;
  }
  if (!req.quiet) std::printf("zoo: %s\nzoo: %s\n", csv_path.c_str(), png_path.c_str());
  if (interrupt_requested()) return interrupt_exit_code();
  return kExitOk;
}

}  // namespace fz::cli
