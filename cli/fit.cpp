// cli/fit.cpp — `flowzoo fit`: variational inference with a flow. Fits q (planar or radial
// stack, or the 2-D realnvp / nsf preset) to one of the unnormalised energies U1..U4 of
// Rezende & Mohamed (2015) (flows/energies.hpp) by minimising the reverse KL with
// reparametrised samples (flows/reverse_kl.hpp), Adam on fresh samples every step (cosine decay
// of the learning rate by default). At the end
// the KL is estimated on kEvalSamples fresh samples with its standard error, using the log Z
// integrated on a grid (flows/energy_integral.hpp), and written with the pictures:
//   <out>/fit.png   target density exp(-U)/Z and fitted density q side by side (heat maps on
//                   [-kRange, kRange]^2 with axes and colour bars), the KL in the title
//   <out>/fit.json  energy, model, steps, the KL and its standard error, log Z, final loss, ...
// Both are written atomically (a temporary beside the target, then a rename). Ctrl-C / SIGTERM
// finish the step and write both for the steps done ("interrupted": true), then exit 130 / 143;
// a non-finite loss stops the fit (exit 3) and writes nothing. The flags' caps (cli/main.cpp:
// --batch <= 16384, --layers <= 256) bound the memory: the largest fit, planar K = 256 at batch
// 16384, peaks at 0.28 GB resident (nsf at that batch 0.14 GB), so fit needs no estimate of its
// own (flows/memory_estimate.hpp).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "autograd/ops_reduce.hpp"
#include "autograd/optim/adam.hpp"
#include "autograd/optim/schedule.hpp"
#include "cli/commands.hpp"
#include "cli/flag_checks.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "datasets/plot_heat_map.hpp"
#include "flows/energy_integral.hpp"
#include "flows/planar_radial_models.hpp"
#include "flows/presets.hpp"
#include "flows/reverse_kl.hpp"
#include "tensor/atomic_file.hpp"
#include "tensor/parallel.hpp"
#include "tensor/printable.hpp"

namespace fz::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kEvalSamples = 20000;  // the final KL estimate
constexpr std::size_t kLogZGrid = 2000;      // log Z: midpoint rule on 2000 x 2000 over [-8, 8]^2
constexpr double kRange = 5.0;               // the pictures: [-5, 5]^2 (the walls of U2..U4 start at 4)
constexpr std::size_t kPictureGrid = 200;
constexpr int kPanelWidth = 560, kPanelHeight = 500, kTitleHeight = 44;

std::shared_ptr<FlowModel<float>> build_model(const std::string& model, std::size_t layers, Rng& rng) {
  if (model == "planar" || model == "radial") return make_planar_radial_flow<float>(model, layers, 2, rng);
  PresetConfig preset;
  preset.model = model;
  preset.event_shape = {2};
  // The targets reach |x| = 5 (U2..U4's walls): a spline on [-3, 3] would leave their outer
  // parts on its identity tails (as `zoo` does for its toy densities).
  if (model == "nsf") preset.tail_bound = 5.0;
  return make_flow<float>(preset, rng);
}

std::string model_label(const FitRequest& req, std::size_t layers) {
  if (req.model == "planar" || req.model == "radial") return req.model + " (K = " + std::to_string(layers) + ")";
  return req.model;
}

// The two heat maps side by side under one title, written atomically as a PNG.
void write_fit_png(const std::string& path, FlowModel<float>& model, Energy2D energy, double log_z,
                   const std::string& title) {
  const PlotRange range{-kRange, kRange, -kRange, kRange};
  const Tensor<double> grid = density_grid(range, kPictureGrid, kPictureGrid);
  HeatMapPlot target;
  target.title = "target exp(-" + energy_name(energy) + ") / Z";
  target.x_label = "z1";
  target.y_label = "z2";
  target.range = range;
  target.log_prob = Tensor<double>({kPictureGrid, kPictureGrid});
  for (std::size_t i = 0; i < kPictureGrid * kPictureGrid; ++i)
    target.log_prob[i] = -energy_at(energy, grid[2 * i], grid[2 * i + 1]) - log_z;
  HeatMapPlot fitted = target;
  fitted.title = "fitted q (density direction)";
  {
    NoGradGuard no_grad;
    fitted.log_prob = model.log_prob(Var<float>(grid.cast<float>())).value().cast<double>().reshape({kPictureGrid, kPictureGrid});
  }
  PlotCanvas canvas(2 * kPanelWidth, kPanelHeight + kTitleHeight);
  TextStyle style;
  style.size = 16;
  style.bold = true;
  style.align = TextAlign::kCentre;
  style.baseline = TextBaseline::kMiddle;
  canvas.text(kPanelWidth, kTitleHeight / 2.0, title, style);
  canvas.blit(heat_map_image(target, kPanelWidth, kPanelHeight), 0, kTitleHeight);
  canvas.blit(heat_map_image(fitted, kPanelWidth, kPanelHeight), kPanelWidth, kTitleHeight);
  const std::string tmp = atomic_temp_path(path);
  canvas.write_png(tmp);
  fs::rename(tmp, path);
}

}  // namespace

int run_fit(const FitRequest& req) {
  Energy2D energy = Energy2D::kU1;
  try {
    energy = energy_from_name(req.energy);
  } catch (const std::invalid_argument& e) {
    throw FlagError(std::string("--energy: ") + e.what());
  }
  const bool stacked = req.model == "planar" || req.model == "radial";
  if (!stacked && req.model != "realnvp" && req.model != "nsf")
    throw FlagError("--model: unknown model '" + req.model + "' (fit takes planar, radial, realnvp, nsf)");
  if (req.layers && !stacked) throw FlagError("--layers is for planar and radial stacks, not " + req.model);
  if (req.steps == 0) throw FlagError("--steps must be at least 1");
  if (req.batch < 2) throw FlagError("--batch must be at least 2");
  if (req.lr < 0 || !std::isfinite(req.lr)) throw FlagError("--lr must be a positive number");
  if (req.out_dir.empty()) throw FlagError("--out is required");
  if (req.schedule != "cosine" && req.schedule != "constant")
    throw FlagError("--schedule: unknown schedule '" + req.schedule + "' (constant or cosine)");
  const std::size_t layers = req.layers ? req.layers : 32;
  // Measured on U1 at a constant rate (batch 256): planar (2000 steps) KL 0.16 at lr 1e-3,
  // 0.030 at 1e-2; radial (1000 steps) 0.37 / 0.081; realnvp (1000 steps) 0.041 at 1e-3, 0.20 at 3e-3.
  const double lr = req.lr > 0 ? req.lr : (stacked ? 1e-2 : 1e-3);
  if (req.threads > 0) set_num_threads(req.threads);

  Rng rng(req.seed);
  auto model = build_model(req.model, layers, rng);
  const double log_z = energy_log_normalizer(energy, kLogZGrid);
  fs::create_directories(req.out_dir);
  const std::string png_path = (fs::path(req.out_dir) / "fit.png").string();
  const std::string json_path = (fs::path(req.out_dir) / "fit.json").string();
  if (!req.quiet) {
    std::printf("flowzoo fit: %s to %s by the reverse KL, %zu parameters, %zu steps, batch %zu, lr %s; log Z = %.6f; "
                "writing to %s\n",
                model_label(req, layers).c_str(), req.energy.c_str(), model->num_parameters(), req.steps, req.batch,
                format_significant(lr, 3).c_str(), log_z, req.out_dir.c_str());
    std::fflush(stdout);
  }

  Adam<float> opt(model->parameters(), lr);
  // Cosine: from lr down to lr / 100 at the last step. The one-batch gradient's noise is what
  // limits a long fit at a constant rate (nsf on U1, 5000 steps: KL 0.127 constant, 0.0037 cosine).
  const LrSchedule schedule = req.schedule == "cosine" ? cosine_schedule(lr, 0, req.steps, lr / 100)
                                                       : constant_schedule(lr);
  Progress progress(req.steps, 0, req.batch, "kl", "samples");
  const auto start = std::chrono::steady_clock::now();
  double final_loss = std::nan("");
  std::size_t done = 0;
  while (done < req.steps && !interrupt_requested()) {
    opt.set_lr(schedule.lr_at(done));
    opt.zero_grad();
    const Var<float> loss = mean(reverse_kl_terms(*model, energy, req.batch, rng));
    const double value = static_cast<double>(loss.value().item());
    if (!std::isfinite(value)) {
      if (!req.quiet) progress.finish();
      std::fprintf(stderr, "flowzoo: fit diverged at step %zu: the loss is %s (try a lower --lr); nothing written\n",
                   done + 1, std::isnan(value) ? "NaN" : "infinite");
      return kExitDiverged;
    }
    loss.backward();
    opt.step();
    final_loss = value;
    ++done;
    if (!req.quiet) progress.update(done, value + log_z);  // a one-batch KL estimate
  }
  if (!req.quiet) progress.finish();
  const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  Rng eval_rng(req.seed ^ 0x5EEDF17ULL);
  model->eval();
  const KlEstimate kl = estimate_reverse_kl(*model, energy, log_z, kEvalSamples, eval_rng);
  const bool interrupted = interrupt_requested();
  const std::string title = "flowzoo fit: " + model_label(req, layers) + " to " + req.energy + ", " +
                            std::to_string(done) + " steps: KL(q || p) = " + format_significant(kl.kl, 4) + " +- " +
                            format_significant(kl.standard_error, 2) + " nats";
  write_fit_png(png_path, *model, energy, log_z, title);
  nlohmann::json j;
  j["energy"] = req.energy;
  j["model"] = req.model;
  if (stacked) j["layers"] = layers;
  j["parameters"] = model->num_parameters();
  j["steps"] = done;
  j["steps_requested"] = req.steps;
  j["interrupted"] = interrupted;
  j["batch"] = req.batch;
  j["lr"] = lr;
  j["schedule"] = req.schedule;
  j["seed"] = req.seed;
  j["kl"] = kl.kl;
  j["kl_standard_error"] = kl.standard_error;
  j["kl_samples"] = kl.samples;
  j["log_z"] = log_z;
  j["log_z_method"] = "midpoint rule, " + std::to_string(kLogZGrid) + " x " + std::to_string(kLogZGrid) +
                      " over [-8, 8]^2";
  j["confinement"] = energy == Energy2D::kU1 ? "none" : "soft wall 2 max(|z1| - 4, 0)^2 added to U";
  j["final_loss"] = final_loss;  // the last step's mean of log q + U (the KL without log Z)
  j["train_seconds"] = train_seconds;
  replace_file_atomically(json_path, j.dump(2) + "\n");
  if (!req.quiet) {
    std::printf("fit: KL(q || p) = %.5f +- %.5f nats (%zu samples; log Z = %.6f), %zu steps in %.1f s\n", kl.kl,
                kl.standard_error, kl.samples, log_z, done, train_seconds);
    std::printf("fit: %s\nfit: %s\n", png_path.c_str(), json_path.c_str());
  }
  if (interrupted) return interrupt_exit_code();
  return kExitOk;
}

}  // namespace fz::cli
