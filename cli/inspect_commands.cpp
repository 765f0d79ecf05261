// cli/inspect_commands.cpp — `flowzoo eval`, `flowzoo sample` and `flowzoo density`: commands
// that load a checkpoint and look at the trained model.
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/flag_checks.hpp"
#include "cli/loaded_run.hpp"
#include "cli/log_prob_export.hpp"
#include "tensor/parallel.hpp"
#include "cli/outputs.hpp"
#include "cli/run_data.hpp"
#include "datasets/image_write.hpp"
#include "datasets/plot_scatter.hpp"
#include "flows/class_scores.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/importance_weighted.hpp"
#include "flows/variational_dequantizer.hpp"
#include "tensor/layout.hpp"

namespace fz::cli {

namespace {

// eval on a class-conditional run: every image scored under every class (one dequantization
// draw, shared), then the Bayes-rule accuracy and the conditional and marginal bits/dim.
int eval_conditional(const EvalRequest& req, LoadedRun& run, const ImageDataset& set, std::size_t n,
                     nlohmann::json& result) {
  const RunConfig& c = run.info.config;
  if (!req.log_probs.empty())
    throw FlagError("eval: --log-probs is not available for a class-conditional run ('" + req.checkpoint + "')");
  const std::vector<std::int32_t> labels(set.labels.begin(), set.labels.begin() + static_cast<long>(n));
  for (std::size_t i = 0; i < n; ++i)
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= c.model.classes)
      throw std::runtime_error("eval: image " + std::to_string(i) + " of the " + req.split + " split has label " +
                               std::to_string(labels[i]) + ", not one of the run's " + std::to_string(c.model.classes) +
                               " classes");
  const std::vector<double> scores = run.trainer->evaluate_class_log_probs(slice_rows(set.images, 0, n), 256, c.seed);
  const ClassScoreSummary summary =
      summarize_class_scores(scores, labels, uniform_log_class_prior(c.model.classes), run.model->dims(), c.train.bits);
  const double dims = static_cast<double>(run.model->dims());
  result["bpd"] = summary.conditional_bpd;
  result["nll_nats"] = summary.conditional_bpd * dims * std::log(2.0);
  result["count"] = n;
  result["classes"] = c.model.classes;
  result["accuracy"] = summary.accuracy;
  result["marginal_bpd"] = summary.marginal_bpd;
  result["class_prior"] = "uniform";
  if (!req.json) {
    std::printf("%s bits/dim: %.5f over %zu images (step %zu), conditional: -log p(x | y) with the true labels\n",
                req.split.c_str(), summary.conditional_bpd, n, run.info.step);
    std::printf("%s marginal bits/dim: %.5f  (-log sum_k p(x | k) p(k), uniform p(k) = 1/%zu)\n", req.split.c_str(),
                summary.marginal_bpd, c.model.classes);
    std::printf("%s accuracy: %.4f  (Bayes rule argmax_k log p(x | k) + log p(k), %zu classes)\n", req.split.c_str(),
                summary.accuracy, c.model.classes);
  } else {
    std::printf("%s\n", result.dump().c_str());
  }
  if (!std::isfinite(summary.conditional_bpd)) {
    std::fflush(stdout);
    std::fprintf(stderr, "flowzoo: eval: the %s bits/dim is %s, not a finite number: the model in '%s' gives "
                         "non-finite densities on these images\n",
                 req.split.c_str(), std::isnan(summary.conditional_bpd) ? "nan" : "infinite", req.checkpoint.c_str());
    return kExitError;
  }
  return kExitOk;
}

// What eval's bits/dim are, in words (also eval --json's "bound").
std::string bound_name(const RunConfig& c, std::size_t samples) {
  const std::string q = c.variational_dequantization() ? "variational dequantization q(u | x)" : "uniform dequantization";
  if (samples == 1) return "the dequantization bound with one draw per image (" + q + ")";
  return "importance-weighted bound with S = " + std::to_string(samples) + " draws per image (" + q + ")";
}

// The inputs a variationally dequantized run's eval sees with one draw per image: y = (x + u) / 2^bits,
// u from q(u | x) (averaged weights if any), drawn as evaluate_images draws them.
Tensor<float> variational_inputs(LoadedRun& run, const TensorU8& pixels, Rng& rng) {
  NoGradGuard no_grad;
  run.model->eval();
  std::unique_ptr<EmaScope<float>> averaged;
  if (run.trainer->ema()) averaged = std::make_unique<EmaScope<float>>(*run.trainer->ema());
  VariationalDequantizer<float>& q = *run.model->dequantizer();
  std::vector<Tensor<float>> parts;
  const std::size_t n = pixels.shape().at(0);
  for (std::size_t b = 0; b < n; b += 256) {
    const TensorU8 batch = slice_rows(pixels, b, std::min(n, b + 256));
    parts.push_back(q.dequantize(batch, q.draw_noise(batch.shape()[0], rng)).y.value());
  }
  return concat(parts, 0);
}

}  // namespace

int run_eval(const EvalRequest& req) {
  if (req.importance_samples < 1 || req.importance_samples > 4096)
    throw FlagError("--importance-samples must be a whole number from 1 to 4096");
  if (req.split != "test" && req.split != "train")
    throw std::invalid_argument("--split must be 'test' or 'train', got '" + req.split + "'");
  LoadedRun run = load_run(req.checkpoint);
  if (req.threads >= 0) set_num_threads(req.threads);  // --threads
  const RunConfig& c = run.info.config;
  nlohmann::json result = {{"checkpoint", req.checkpoint}, {"step", run.info.step}, {"split", req.split},
                           {"model", c.model.model}, {"dataset", c.dataset}};
  RunData data = load_run_data(c, req.split == "train");
  if (data.toy) {
    if (req.importance_samples != 1)
      throw FlagError("--importance-samples is for image models (a 2-D model's NLL is exact, nothing is dequantized)");
    const std::size_t n = req.limit ? req.limit : 20000;
    // The test split is the run's fixed test set; "train" draws fresh samples like training did.
    const Tensor<float> x = req.split == "test" ? data.toy_test(n) : data.toy_batch(1u << 30, n);
    const double nll = run.trainer->evaluate_continuous(x, 2000);
    if (!req.log_probs.empty()) write_log_probs(req.log_probs, run, x, 0);
    result["nll_nats"] = nll;
    result["count"] = n;
    if (!req.json) std::printf("%s NLL: %.5f nats per sample over %zu samples (step %zu)\n", req.split.c_str(), nll, n, run.info.step);
  } else {
    const ImageDataset& set = req.split == "test" ? data.test : data.train;
    const std::size_t n = req.limit ? std::min(req.limit, set.size()) : set.size();
    if (c.model.classes && req.importance_samples != 1)
      throw FlagError("eval: --importance-samples is not available for a class-conditional run ('" + req.checkpoint +
                      "'): its bits/dim are scored with one uniform draw per image");
    if (c.model.classes) return eval_conditional(req, run, set, n, result);
    // evaluate_images' number (S = 1, the same draws) or the importance-weighted estimate.
    const ImportanceWeightedResult iw =
        importance_weighted_bpd(*run.trainer, slice_rows(set.images, 0, n), req.importance_samples, 256, c.seed);
    const double bpd = iw.mean_bpd;
    if (!req.log_probs.empty()) {
      Rng rng(c.seed, /*stream=*/11);  // evaluate_images' dequantization stream
      write_log_probs(req.log_probs, run,
                      c.variational_dequantization()
                          ? variational_inputs(run, slice_rows(set.images, 0, n), rng)
                          : dequantize<float>(slice_rows(set.images, 0, n), rng, c.train.bits),
                      c.train.bits);
    }
    const double dims = static_cast<double>(run.model->dims());
    const std::string bound = bound_name(c, req.importance_samples);
    result["bpd"] = bpd;
    result["nll_nats"] = bpd * dims * std::log(2.0);  // discrete NLL bound per image, in nats
    result["count"] = n;
    result["bpd_standard_error"] = iw.standard_error;
    result["importance_samples"] = req.importance_samples;
    result["dequantization"] = c.dequantization;
    result["bound"] = bound;
    if (!req.json) {
      std::printf("%s bits/dim: %.5f over %zu images (step %zu)\n", req.split.c_str(), bpd, n, run.info.step);
      std::printf("  standard error %.5f over the images; %s\n", iw.standard_error, bound.c_str());
    }
  }
  if (req.json) std::printf("%s\n", result.dump().c_str());
  // A NaN or infinite result is printed (above) but is not a successful evaluation.
  const double value = data.toy ? result["nll_nats"].get<double>() : result["bpd"].get<double>();
  if (!std::isfinite(value)) {
    std::fflush(stdout);
    std::fprintf(stderr, "flowzoo: eval: the %s %s is %s, not a finite number: the model in '%s' gives non-finite "
                         "densities on these %s\n",
                 req.split.c_str(), data.toy ? "NLL" : "bits/dim", std::isnan(value) ? "nan" : "infinite",
                 req.checkpoint.c_str(), data.toy ? "samples" : "images");
    return kExitError;
  }
  return kExitOk;
}

int run_sample(const SampleRequest& req) {
  if (req.out.empty()) throw std::invalid_argument("sample: --out FILE.png is required");
  if (req.n == 0 || req.n > 4096) throw FlagError("sample: --n must be between 1 and 4096");
  for (double t : req.temperatures)
    if (!(t > 0) || t > 10) throw FlagError("sample: temperatures must be in (0, 10]");
  if (req.upscale < 1 || req.upscale > 8) throw FlagError("--upscale must be between 1 and 8");
  if (!(req.hi > req.lo)) throw FlagError("--range needs LO < HI");
  LoadedRun run = load_run(req.checkpoint, req.n, "--n " + std::to_string(req.n));
  if (req.threads >= 0) set_num_threads(req.threads);  // --threads
  RunData data;
  data.toy = run.info.config.is_toy();
  NoGradGuard no_grad;
  std::unique_ptr<EmaScope<float>> averaged;
  if (run.trainer->ema()) averaged = std::make_unique<EmaScope<float>>(*run.trainer->ema());
  Rng rng(req.seed, 2024);
  const std::string title = run_title(run.info.config) + ": samples, step " + std::to_string(run.info.step);
  const std::size_t classes = run.model->classes();
  if (!classes && (req.class_index >= 0 || req.class_grid))
    throw FlagError(std::string("sample: ") + (req.class_grid ? "--class-grid" : "--class") + ": '" + req.checkpoint +
                    "' is not a class-conditional run (train it with --conditional)");
  if (classes && req.class_index >= static_cast<long>(classes))
    throw FlagError("sample: --class " + std::to_string(req.class_index) + ": the run has " + std::to_string(classes) +
                    " classes, 0 to " + std::to_string(classes - 1));
  if (classes && req.class_index < 0) {  // --class-grid, or no class asked for: a row per class
    if (req.temperatures.size() != 1)
      throw FlagError("sample: --class-grid takes one --temperature (its rows are the classes)");
    write_class_grid(*run.model, run.info.config, req.out, title + ", " + temperature_label(req.temperatures[0]),
                     std::min<std::size_t>(req.n, 16), req.temperatures[0], rng, req.upscale);
    std::printf("wrote %s (a row per class)\n", req.out.c_str());
    return kExitOk;
  }
  // --class K: every sample from class K (one row of labels per call).
  auto draw = [&](std::size_t n, double t, Rng& r) {
    if (classes) return run.model->sample(repeated_class(static_cast<std::size_t>(req.class_index), n), static_cast<float>(t), r);
    return run.model->sample(n, static_cast<float>(t), r);
  };
  const std::string class_note =
      classes ? ", class " + std::to_string(req.class_index) + " (" +
                    class_names_of(run.info.config)[static_cast<std::size_t>(req.class_index)] + ")"
              : std::string();
  if (data.toy) {
    if (req.temperatures.size() != 1)  // a flag this checkpoint cannot take: exit 2
      throw FlagError("sample: --temperatures: a 2-D model's samples are one scatter plot, give one --temperature");
    ScatterPlot plot;
    plot.title = run_title(run.info.config) + ": samples at " + temperature_label(req.temperatures[0]) + ", step " +
                 std::to_string(run.info.step);
    plot.range = PlotRange{req.lo, req.hi, req.lo, req.hi};
    plot.points =
        run.model->sample(std::max<std::size_t>(req.n, 2), static_cast<float>(req.temperatures[0]), rng).cast<double>();
    write_scatter_plot_png(req.out, plot);
  } else if (req.temperatures.size() == 1) {
    const std::size_t cols = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(req.n))));
    write_image_table(req.out, title + class_note + ", " + temperature_label(req.temperatures[0]),
                      draw(req.n, req.temperatures[0], rng), cols, {}, {}, req.upscale);
  } else {
    // One row per temperature, the same latent noise in each, labelled with its temperature.
    std::vector<Tensor<float>> rows;
    std::vector<std::string> labels;
    const std::size_t per_row = std::min<std::size_t>(req.n, 16);
    for (double t : req.temperatures) {
      Rng row_rng(req.seed, 2024);
      rows.push_back(draw(per_row, t, row_rng));
      labels.push_back(temperature_label(t));
    }
    write_image_table(req.out, title + class_note, concat(rows, 0), per_row, labels, {}, req.upscale,
                      "each row: the same latent noise scaled by the temperature T");
  }
  std::printf("wrote %s\n", req.out.c_str());
  return kExitOk;
}

int run_density(const DensityRequest& req) {
  if (req.out.empty()) throw std::invalid_argument("density: --out FILE.png is required");
  LoadedRun run = load_run(req.checkpoint, req.grid * req.grid, "--grid " + std::to_string(req.grid));
  if (req.threads >= 0) set_num_threads(req.threads);  // --threads
  if (!run.info.config.is_toy())
    throw std::invalid_argument("density: '" + req.checkpoint + "' is an image model; density plots need a 2-D (--dataset toy) model");
  write_density(*run.model, *run.trainer, req.out, req.csv, req.lo, req.hi, req.grid,
                run_title(run.info.config) + ": learned density, step " + std::to_string(run.info.step),
                req.log_density);
  std::printf("wrote %s%s%s\n", req.out.c_str(), req.csv.empty() ? "" : " and ", req.csv.c_str());
  return kExitOk;
}

}  // namespace fz::cli
