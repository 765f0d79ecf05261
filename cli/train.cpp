// cli/train.cpp — `flowzoo train`: the training loop with checkpoints, metrics, samples,
// resume, Ctrl-C handling and a final evaluation.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/outputs.hpp"
#include "cli/progress.hpp"
#include "cli/run_data.hpp"
#include "datasets/loader.hpp"
#include "tensor/parallel.hpp"

namespace fz::cli {

namespace fs = std::filesystem;

namespace {

std::string fmt(double v, int precision = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

// Drops metric rows past `last_step` (written after the checkpoint a resumed run starts from).
void truncate_metrics(const std::string& path, std::size_t last_step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  bool header = true;
  while (std::getline(in, line)) {
    if (header || (!line.empty() && std::stoull(line.substr(0, line.find(','))) <= last_step)) kept += line + "\n";
    header = false;
  }
  in.close();
  std::ofstream(path) << kept;
}

}  // namespace

int run_train(const TrainRequest& req) {
  RunConfig config = req.config;
  if (!req.resume) config.validate();  // before touching the disk
  fs::create_directories(req.out_dir);
  const std::string ckpt_path = (fs::path(req.out_dir) / "checkpoint.safetensors").string();
  const std::string metrics_path = (fs::path(req.out_dir) / "metrics.csv").string();
  const std::string layers_path = (fs::path(req.out_dir) / "layers.csv").string();  // --log-layers
  CheckpointInfo resumed;
  if (req.resume) {
    if (!fs::exists(ckpt_path))
      throw std::runtime_error("--resume: no checkpoint.safetensors in '" + req.out_dir + "' to resume from");
    resumed = read_checkpoint_info(ckpt_path);
    RunConfig saved = resumed.config;
    // The run length may be extended on resume; everything else comes from the checkpoint.
    if (config.steps || config.epochs || config.minutes) {
      saved.steps = config.steps;
      saved.epochs = config.epochs;
      saved.minutes = config.minutes;
    }
    config = saved;
  }
  config.validate();
  set_num_threads(config.threads);

  RunData data = load_run_data(config);
  config.model.event_shape = data.event_shape;
  config.model = resolve_preset(config.model);
  if (data.toy && config.epochs > 0) throw std::invalid_argument("--epochs needs an image dataset (toy data is endless: use --steps or --minutes)");
  if (!data.toy && data.train.size() < config.batch)
    throw std::invalid_argument("--batch " + std::to_string(config.batch) + " is larger than the training set (" +
                                std::to_string(data.train.size()) + " images)");

  Rng init_rng(config.seed);
  auto model = make_flow<float>(config.model, init_rng);
  Trainer<float> trainer(model, config.train, config.seed);
  double wall_before = 0.0;
  if (req.resume) {
    load_checkpoint(ckpt_path, *model, &trainer);
    wall_before = resumed.wall_seconds;
    truncate_metrics(metrics_path, resumed.step);
    truncate_metrics(layers_path, resumed.step);
  } else {
    write_config((fs::path(req.out_dir) / "config.json").string(), config);
    // `event` is empty on normal rows; "recovered:<cause>" on a step that diverged and was rolled
    // back (its loss and grad_norm are the offending values, lr the lowered rate that follows).
    std::ofstream(metrics_path) << (data.toy ? "step,wall_seconds,train_nll,lr,grad_norm,test_nll,event\n"
                                             : "step,wall_seconds,train_bpd,lr,grad_norm,test_bpd,event\n");
    fs::remove(layers_path);  // a fresh run starts a fresh per-layer log
  }
  std::ofstream metrics(metrics_path, std::ios::app);

  LoaderOptions lo;
  lo.batch_size = config.batch;
  lo.seed = config.seed;
  lo.drop_last = true;  // every step sees a full batch
  std::unique_ptr<DataLoader> loader;
  std::size_t batches_per_epoch = 0;
  if (!data.toy) {
    loader = std::make_unique<DataLoader>(data.train, lo);
    batches_per_epoch = loader->num_batches();
  }
  std::size_t total_steps = config.steps;
  if (!total_steps && config.epochs > 0)
    total_steps = static_cast<std::size_t>(std::ceil(config.epochs * static_cast<double>(batches_per_epoch)));
  const double budget = config.minutes * 60.0;

  const std::string unit = data.toy ? "nll" : "bpd";
  const Tensor<float> toy_test = data.toy ? data.toy_test(20000) : Tensor<float>();
  auto evaluate = [&](std::size_t limit) {
    if (data.toy) return trainer.evaluate_continuous(toy_test, 2000);
    const std::size_t n = limit ? std::min(limit, data.test.size()) : data.test.size();
    return trainer.evaluate_images(slice_rows(data.test.images, 0, n), 256, config.seed);
  };

  if (!req.quiet) {
    std::printf("flowzoo train: %s on %s%s, %zu parameters, batch %zu, %s; writing to %s\n",
                config.model.model.c_str(), config.dataset.c_str(),
                data.toy ? (" (" + config.density + ")").c_str() : "", model->num_parameters(), config.batch,
                total_steps ? (std::to_string(total_steps) + " steps").c_str()
                            : (fmt(config.minutes) + " minutes").c_str(),
                req.out_dir.c_str());
    if (req.resume) std::printf("resuming at step %zu\n", trainer.steps_done());
    std::fflush(stdout);
  }
  Progress progress(total_steps, budget, config.batch, unit);
  install_interrupt_handler();
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  double last_checkpoint = 0.0;
  auto checkpoint = [&] {
    save_checkpoint(ckpt_path, trainer, config, wall_before + elapsed());
    last_checkpoint = elapsed();
  };
  bool interrupted = false;
  while (true) {
    const std::size_t s = trainer.steps_done();
    if (total_steps && s >= total_steps) break;
    if (budget > 0 && elapsed() >= budget) break;
    if (interrupt_requested()) {
      interrupted = true;
      break;
    }
    StepStats stats;
    try {
      if (data.toy) {
        stats = trainer.step_continuous(data.toy_batch(s, config.batch));
      } else {
        const std::uint64_t epoch = s / batches_per_epoch;
        if (loader->epoch() != epoch) loader->set_epoch(epoch);
        stats = trainer.step_images(loader->batch(s % batches_per_epoch).images);
      }
    } catch (const NonFiniteError& e) {
      progress.finish();
      std::fprintf(stderr, "flowzoo: training stopped at %s; the last good checkpoint (step %s) is kept in %s\n",
                   e.what(), fs::exists(ckpt_path) ? std::to_string(read_checkpoint_info(ckpt_path).step).c_str() : "none",
                   ckpt_path.c_str());
      return kExitDiverged;
    }
    if (!stats.event.empty() && !req.quiet) progress.message(stats.message);  // a divergence recovered
    std::string test_col;
    if (config.eval_every && stats.step % config.eval_every == 0) {
      // --log-layers evaluates term by term: the same number, plus a row of layers.csv.
      const double t = req.log_layers ? evaluate_logging_layers(trainer, data, config, stats.step, layers_path)
                                      : evaluate(config.eval_limit);
      test_col = fmt(t);
      progress.message("step " + std::to_string(stats.step) + ": test " + unit + " " + fmt(t, 5));
    }
    metrics << stats.step << ',' << fmt(wall_before + elapsed(), 8) << ',' << fmt(stats.loss) << ','
            << fmt(stats.lr) << ',' << fmt(stats.grad_norm) << ',' << test_col << ',' << stats.event << '\n';
    metrics.flush();
    if (!req.quiet) progress.update(stats.step, stats.loss);
    if (config.sample_every && stats.step % config.sample_every == 0)
      write_samples(*model, trainer, data, req.out_dir, "step" + std::to_string(stats.step), {0.7, 1.0}, config.seed);
    if (!test_col.empty() || elapsed() - last_checkpoint >= config.checkpoint_seconds) checkpoint();
  }
  progress.finish();
  checkpoint();
  if (interrupted) {
    std::printf("interrupted at step %zu; checkpoint written to %s (continue with --resume)\n", trainer.steps_done(),
                ckpt_path.c_str());
    return kExitInterrupted;
  }

  const double final_metric = evaluate(config.final_eval_limit);
  write_samples(*model, trainer, data, req.out_dir, "final", {0.5, 0.7, 0.9, 1.0}, config.seed);
  write_training_curve(metrics_path, (fs::path(req.out_dir) / "curve.png").string());
  if (data.toy) write_density(*model, trainer, (fs::path(req.out_dir) / "density.png").string(), "", -4, 4, 200);
  const std::size_t n_eval = data.toy ? toy_test.shape()[0]
                             : (config.final_eval_limit ? std::min(config.final_eval_limit, data.test.size())
                                                        : data.test.size());
  std::printf("done: %zu steps in %s s; test %s = %.4f on %zu %s\n", trainer.steps_done(),
              fmt(wall_before + elapsed(), 4).c_str(), unit.c_str(), final_metric, n_eval,
              data.toy ? "fresh samples" : "test images");
  std::printf("  checkpoint  %s\n  config      %s\n  metrics     %s\n  curve       %s\n  samples     %s\n",
              ckpt_path.c_str(), (fs::path(req.out_dir) / "config.json").c_str(), metrics_path.c_str(),
              (fs::path(req.out_dir) / "curve.png").c_str(),
              (fs::path(req.out_dir) / "samples_final_T*.png").c_str());
  if (data.toy) std::printf("  density     %s\n", (fs::path(req.out_dir) / "density.png").c_str());
  return kExitOk;
}

}  // namespace fz::cli
