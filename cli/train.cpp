// cli/train.cpp — `flowzoo train`: the training loop with checkpoints, metrics, samples,
// resume, Ctrl-C / SIGTERM handling and a final evaluation. The run folder is locked for the
// whole run and an old run in it is never silently replaced (cli/run_folder.hpp); a
// checkpoint is only written from finite state (cli/finite_state.hpp).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "cli/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli/data_parallel.hpp"
#include "cli/finite_state.hpp"
#include "cli/flag_checks.hpp"
#include "cli/interrupt.hpp"
#include "cli/memory_guard.hpp"
#include "cli/memory_report.hpp"
#include "cli/outputs.hpp"
#include "cli/progress.hpp"
#include "cli/resume_flags.hpp"
#include "cli/run_data.hpp"
#include "cli/run_folder.hpp"
#include "datasets/loader.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/memory_saving.hpp"
#include "flows/variational_dequantizer.hpp"
#include "tensor/atomic_file.hpp"
#include "tensor/parallel.hpp"
#include "tensor/printable.hpp"

#include <nlohmann/json.hpp>

namespace fz::cli {

namespace fs = std::filesystem;

namespace {

std::string fmt(double v, int precision = 6) { return format_significant(v, precision); }

// Drops metric rows past `last_step` (written after the checkpoint a resumed run starts from)
// and rows that are not whole (no step number, or fewer cells than the header: cut by a kill).
// Rewritten with replace_file_atomically, so a kill during the rewrite keeps the old file whole.
void truncate_metrics(const std::string& path, std::size_t last_step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  std::ptrdiff_t cells = -1;  // commas per row, from the header
  while (std::getline(in, line)) {
    char* end = nullptr;
    const unsigned long long step = std::strtoull(line.c_str(), &end, 10);
    const std::ptrdiff_t commas = std::count(line.begin(), line.end(), ',');
    if (cells < 0) {
      cells = commas;
      kept += line + "\n";
    } else if (end != line.c_str() && *end == ',' && commas == cells && step <= last_step) {
      kept += line + "\n";
    }
  }
  in.close();
  replace_file_atomically(path, kept);
}

// --schedule cosine needs a run length in steps that passes the warmup: known for --steps (and
// --schedule-steps) before anything is loaded; --epochs is turned into steps once the data is.
void check_schedule_length(const RunConfig& c) {
  if (c.train.schedule != "cosine") return;
  const std::size_t end = c.train.schedule_steps ? c.train.schedule_steps : c.steps;
  if (!end && !c.epochs)
    throw FlagError("--schedule cosine needs the run's length in steps: give --steps, --epochs or --schedule-steps "
                    "(a --minutes budget has no known last step)");
  if (end && end <= c.train.warmup_steps)
    throw FlagError("--schedule cosine: the decay ends at step " + std::to_string(end) + ", not after the --warmup " +
                    std::to_string(c.train.warmup_steps) + " steps");
}

// train --conditional: the number of classes of the training labels (class names when the
// dataset has them, else the largest label + 1); FlagError when there are none to condition on.
std::size_t conditional_classes(const RunConfig& c, const RunData& data) {
  if (data.toy) throw FlagError("--conditional needs an image dataset with labels, not 2-D toy data");
  std::int32_t largest = -1;
  for (std::int32_t y : data.train.labels) {
    if (y < 0)
      throw FlagError("--conditional: the " + c.dataset + " training set has unlabelled images (e.g. images directly "
                      "in a folder dataset's top folder, not in a class folder)");
    largest = std::max(largest, y);
  }
  for (std::int32_t y : data.test.labels)
    if (y < 0) throw FlagError("--conditional: the " + c.dataset + " test set has unlabelled images");
  const std::size_t classes = std::max(data.train.class_names.size(), static_cast<std::size_t>(largest + 1));
  if (classes < 2)
    throw FlagError("--conditional: the " + c.dataset + " training set has " + std::to_string(classes) +
                    " class; class-conditional models need at least 2");
  return classes;
}

// <out>/results.json: the final evaluation of a finished run, with what it was measured on.
// Written atomically (a kill leaves the old file or the new one, never half of one).
void write_results(const std::string& path, const RunConfig& c, bool toy, double metric, std::size_t count,
                   std::size_t steps, double wall_seconds, std::size_t parameters, std::size_t dims) {
  nlohmann::json r = {{"model", c.model.model}, {"dataset", c.dataset}, {"steps", steps},
                      {"wall_seconds", wall_seconds}, {"parameters", parameters}, {"count", count},
                      {"checkpoint", "checkpoint.safetensors"}};
  if (toy) {
    r["density"] = c.density;
    r["test_nll_nats"] = metric;  // per sample, on fresh samples of the density
  } else {
    r["test_bpd"] = metric;
    r["dequantization"] = c.dequantization;  // variational: test_bpd is the variational bound
    r["test_nll_nats"] = metric * static_cast<double>(dims) * std::log(2.0);  // per image, as eval
    if (c.model.classes) r["classes"] = c.model.classes;  // test_bpd is then -log p(x | y)
  }
  replace_file_atomically(path, r.dump(2) + "\n");
}

// The whole of `train` once the signal handler is installed (run_train below).
int train_in_locked_folder(const TrainRequest& req) {
  RunConfig config = req.config;
  // Several MPI ranks: rank 0 alone touches the run folder (cli/data_parallel.hpp).
  Collective& ranks = current_collective();
  const bool lead = is_lead(ranks);
  if (!req.resume) {  // before touching the disk: flags, and the memory they ask for
    if (req.conditional && config.variational_dequantization())
      throw FlagError("--conditional with --dequantization variational is not available: the class-conditional scores "
                      "(eval's Bayes accuracy) dequantize uniformly");
    if (req.conditional && config.is_toy())
      throw FlagError("--conditional needs an image dataset with labels, not 2-D toy data");
    if (req.conditional && config.model.model != "glow" && config.model.model != "nsf" && config.model.model != "realnvp")
      throw FlagError("--conditional: class-conditional priors are for the multi-scale image models (glow, nsf, "
                      "realnvp), not " + config.model.model);
    check_run_fits(config);
    check_schedule_length(config);
    check_data_parallel_flags(req, config, ranks);
  }
  if (req.resume && req.force) throw RunFolderConflict("--resume and --force exclude each other");
  std::optional<RunFolderLock> lock;  // one run per folder; also clears stale temporaries
  if (lead) lock.emplace(req.out_dir);
  const std::string ckpt_path = (fs::path(req.out_dir) / "checkpoint.safetensors").string();
  const std::string metrics_path = (fs::path(req.out_dir) / "metrics.csv").string();
  const std::string layers_path = (fs::path(req.out_dir) / "layers.csv").string();  // --log-layers
  if (!req.resume && lead) {
    const std::string moved = clear_for_fresh_run(req.out_dir, req.force);
    if (!moved.empty() && !req.quiet)
      std::fprintf(stderr, "flowzoo: --force: moved the previous run in '%s' to '%s'\n", req.out_dir.c_str(),
                   moved.c_str());
  }
  CheckpointInfo resumed;
  if (req.resume) {
    if (!fs::exists(ckpt_path))
      throw std::runtime_error("--resume: no checkpoint.safetensors in '" + req.out_dir + "' to resume from");
    resumed = read_checkpoint_info(ckpt_path);
    std::set<std::string> given = req.given_flags;
    if (given.empty()) {  // a library caller (tests): the run length it sets is what it asks for
      if (config.steps) given.insert("--steps");
      if (config.epochs) given.insert("--epochs");
      if (config.minutes) given.insert("--minutes");
    }
    std::vector<std::string> warnings;
    config = merge_resume_flags(resumed.config, config, given, req.out_dir, warnings);
    if (!req.quiet)
      for (const std::string& w : warnings) std::fprintf(stderr, "flowzoo: --resume: %s\n", w.c_str());
  }
  if (req.resume && req.conditional && resumed.config.model.classes == 0)
    throw RunFolderConflict("--resume: the run saved in '" + req.out_dir +
                            "' is unconditional; --conditional would change its model (start a new run with another --out)");
  if (req.resume) check_run_fits(config, ckpt_path);  // before building anything its configuration sizes
  if (req.resume) check_data_parallel_flags(req, config, ranks);
  set_num_threads(config.threads);

  RunData data = load_run_data(config);
  set_memory_kind(data.train.images, MemoryKind::data);  // for --memory-report (toy runs: undefined, a no-op)
  set_memory_kind(data.test.images, MemoryKind::data);
  if (data.event_shape != expected_event_shape(config))  // e.g. IDX files of another size
    check_training_memory(config, data.event_shape, req.resume ? ckpt_path : "");
  config.model.event_shape = data.event_shape;
  if (req.conditional || config.model.classes) {  // a resumed or --config run keeps its class count
    const std::size_t classes = conditional_classes(config, data);
    if (config.model.classes && config.model.classes != classes)
      throw std::runtime_error("the run is conditional on " + std::to_string(config.model.classes) + " classes, but the " +
                               config.dataset + " labels have " + std::to_string(classes));
    if (req.log_layers) throw FlagError("--log-layers is not available for --conditional runs");
    config.model.classes = classes;
  }
  const bool conditional = config.model.classes > 0;
  config.model = resolve_preset(config.model);
  if (data.toy && config.epochs > 0) throw FlagError("--epochs needs an image dataset (toy data is endless: use --steps or --minutes)");
  if (!data.toy && data.train.size() < config.batch)
    throw FlagError("--batch " + std::to_string(config.batch) + " is larger than the training set (" +
                                std::to_string(data.train.size()) + " images)");

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
  if (config.train.schedule == "cosine" && config.train.schedule_steps == 0) {
    config.train.schedule_steps = total_steps;  // recorded in config.json: --resume keeps the same curve
    check_schedule_length(config);
  }

  Rng init_rng(config.seed);
  auto model = make_flow<float>(config.model, init_rng);
  if (config.variational_dequantization())  // drawn after the flow's: its initialisation is unchanged
    add_variational_dequantizer(*model, config.dequant_hidden, config.train.bits, init_rng);
  Trainer<float> trainer(model, config.train, config.seed);
  double wall_before = 0.0;
  // The step of the checkpoint on disk that this run may report as its last good one.
  std::optional<std::size_t> saved_step;
  if (req.resume) {
    load_checkpoint(ckpt_path, *model, &trainer);
    wall_before = resumed.wall_seconds;
    saved_step = resumed.step;
    if (lead) {
      truncate_metrics(metrics_path, resumed.step);
      truncate_metrics(layers_path, resumed.step);
    }
  } else if (lead) {
    write_config((fs::path(req.out_dir) / "config.json").string(), config);
    // `event` is empty on normal rows; "recovered:<cause>" on a step that diverged and was rolled
    // back (its loss and grad_norm are the offending values, lr the lowered rate that follows).
    std::ofstream(metrics_path) << (data.toy ? "step,wall_seconds,train_nll,lr,grad_norm,test_nll,event\n"
                                             : "step,wall_seconds,train_bpd,lr,grad_norm,test_bpd,event\n");
    fs::remove(layers_path);  // a fresh run starts a fresh per-layer log
  }
  std::ofstream metrics;
  if (lead) metrics.open(metrics_path, std::ios::app);

  const double budget = config.minutes * 60.0;

  const std::string unit = data.toy ? "nll" : "bpd";
  const Tensor<float> toy_test = data.toy ? data.toy_test(20000) : Tensor<float>();
  const std::function<bool()> stop = [] { return interrupt_requested(); };
  // NaN when a signal stopped it between batches.
  auto evaluate = [&](std::size_t limit) {
    if (data.toy) return trainer.evaluate_continuous(toy_test, 2000, stop);
    const std::size_t n = limit ? std::min(limit, data.test.size()) : data.test.size();
    if (conditional)  // -log p(x | y)
      return trainer.evaluate_images(slice_rows(data.test.images, 0, n),
                                     std::vector<std::int32_t>(data.test.labels.begin(), data.test.labels.begin() + long(n)),
                                     256, config.seed, stop);
    return trainer.evaluate_images(slice_rows(data.test.images, 0, n), 256, config.seed, stop);
  };

  if (!req.quiet) {
    std::printf("flowzoo train: %s%s on %s%s, %zu parameters, batch %zu, %s; writing to %s\n",
                config.model.model.c_str(),
                conditional ? (" conditional on " + std::to_string(config.model.classes) + " classes").c_str() : "",
                config.dataset.c_str(),
                data.toy ? (" (" + config.density + ")").c_str() : "", model->num_parameters(), config.batch,
                total_steps ? (std::to_string(total_steps) + " steps").c_str()
                            : (fmt(config.minutes) + " minutes").c_str(),
                req.out_dir.c_str());
    if (model->dequantizer())
      std::printf("dequantization: variational, q(u | x) with %zu of the parameters; every bits/dim below is the "
                  "variational bound -E_q[log p(x + u) - log q(u | x)]\n",
                  model->dequantizer()->num_parameters());
    if (req.resume) std::printf("resuming at step %zu\n", trainer.steps_done());
    if (ranks.distributed())
      std::printf("data parallel: %s, %zu examples per rank per step\n", ranks.description().c_str(),
                  config.batch / static_cast<std::size_t>(ranks.size()));
    std::fflush(stdout);
  }
  Progress progress(total_steps, budget, config.batch, unit, data.toy ? "points" : "img");
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

  // Divergence: the message names the checkpoint that is really on disk, or says there is none.
  auto stop_diverged = [&](const std::string& why) {
    progress.finish();
    const std::string kept = saved_step ? "the last finite checkpoint (step " + std::to_string(*saved_step) +
                                              ") is kept in " + ckpt_path
                                        : std::string("no checkpoint was written yet");
    if (lead) std::fprintf(stderr, "flowzoo: training stopped at %s; %s\n", why.c_str(), kept.c_str());
    return kExitDiverged;
  };
  // The batch of the last step: the state about to be saved must give a finite log-density on it
  // (cli/finite_state.hpp: non_finite_log_prob).
  Tensor<float> last_toy_batch;
  TensorU8 last_pixels;
  std::vector<std::int32_t> last_labels;  // conditional runs
  double last_loss = 0.0;
  double last_checkpoint = 0.0;
  // One row of metrics.csv, flushed so a kill loses nothing; a recovery row (written when the
  // state is rolled back) leaves the loss, gradient norm and test columns empty.
  auto write_metrics_row = [&](std::size_t step, const std::string& loss, double lr,
                               const std::string& grad_norm, const std::string& test, const std::string& event) {
    if (!lead) return;
    metrics << step << ',' << fmt(wall_before + elapsed(), 8) << ',' << loss << ',' << fmt(lr) << ','
            << grad_norm << ',' << test << ',' << event << '\n';
    metrics.flush();
  };
  // Returns the reason the state may not be saved ("" when it was saved).
  auto state_problem = [&]() -> std::string {
    std::string bad = non_finite_state(trainer, last_loss);
    if (bad.empty() && trainer.steps_done() > 0) {
      Rng probe_rng(config.seed, /*stream=*/13);  // its own generator: the trainer's is untouched
      bad = non_finite_log_prob(trainer, data.toy ? last_toy_batch
                                                  : dequantize<float>(last_pixels, probe_rng, config.train.bits),
                                last_labels);
    }
    // The ranks hold the same state and batch, so they find the same; agreed all the same, since
    // what follows (a rollback, stopping) must happen on all ranks or none.
    if (any_rank(ranks, !bad.empty()) && bad.empty()) bad = "another MPI rank found the state not finite";
    return bad;
  };
  auto checkpoint = [&]() -> std::string {
    std::string bad = state_problem();
    if (!bad.empty() && config.train.divergence.policy == DivergencePolicy::Recover) {
      // The state went bad without a non-finite loss (e.g. Adam's second moment overflowed):
      // roll back to the last good snapshot like a diverged step, log it, and check again.
      StepStats r;
      try {
        r = trainer.recover_state(bad);
      } catch (const NonFiniteError& e) {
        return e.what();
      }
      if (!req.quiet) progress.message(r.message);
      write_metrics_row(r.step, "", r.lr, "", "", r.event);
      bad = state_problem();
    }
    if (!bad.empty()) return "step " + std::to_string(trainer.steps_done()) + ": " + bad;
    if (lead) save_checkpoint(ckpt_path, trainer, config, wall_before + elapsed());
    saved_step = trainer.steps_done();
    last_checkpoint = rank0_value(ranks, elapsed());  // the ranks' clocks differ: rank 0's decides
    return "";
  };
  bool interrupted = false;
  StepMemoryWatch memory_watch;  // --memory-report
  if (!req.quiet) {
    // The readiness line a supervisor (or tests/cli) can wait for before signalling.
    std::printf("training: step loop started at step %zu\n", trainer.steps_done());
    std::fflush(stdout);
  }
  while (true) {
    const std::size_t s = trainer.steps_done();
    if (total_steps && s >= total_steps) break;
    // Under MPI every branch below is taken by all ranks together: the clock is rank 0's and a
    // signal on any rank stops them all (one small allreduce; none on a single process).
    const StepAgreement agreed = agree_on_step(ranks, interrupt_requested(), elapsed());
    if (budget > 0 && agreed.seconds >= budget) break;
    if (agreed.stop) {
      interrupted = true;
      break;
    }
    StepStats stats;
    memory_watch.before_step();
    try {
      if (data.toy) {
        last_toy_batch = data.toy_batch(s, config.batch);
        stats = trainer.step_continuous(last_toy_batch);
      } else {
        const std::uint64_t epoch = s / batches_per_epoch;
        if (loader->epoch() != epoch) loader->set_epoch(epoch);
        Batch batch = loader->batch(s % batches_per_epoch);
        last_pixels = std::move(batch.images);
        if (conditional) last_labels = std::move(batch.labels);
        stats = conditional ? trainer.step_images(last_pixels, last_labels) : trainer.step_images(last_pixels);
      }
    } catch (const NonFiniteError& e) {
      return stop_diverged(e.what());
    }
    memory_watch.after_step(stats.step);
    if (stats.event.empty()) last_loss = stats.loss;  // a recovered step's loss was not accepted
    if (!stats.event.empty() && !req.quiet) progress.message(stats.message);  // a divergence recovered
    std::string test_col;
    if (config.eval_every && stats.step % config.eval_every == 0) {
      // --log-layers evaluates term by term: the same number, plus a row of layers.csv.
      const double t = req.log_layers ? evaluate_logging_layers(trainer, data, config, stats.step, layers_path)
                                      : evaluate(config.eval_limit);
      if (!any_rank(ranks, interrupt_requested())) {  // an evaluation cut short by a signal has no number
        test_col = fmt(t);
        if (!req.quiet) progress.message("step " + std::to_string(stats.step) + ": test " + unit + " " + fmt(t, 5));
      }
    }
    write_metrics_row(stats.step, fmt(stats.loss), stats.lr, fmt(stats.grad_norm), test_col, stats.event);
    if (!req.quiet) progress.update(stats.step, stats.loss);
    if (config.sample_every && stats.step % config.sample_every == 0 && !any_rank(ranks, interrupt_requested()) && lead)
      write_samples(*model, trainer, data, config, req.out_dir, "step" + std::to_string(stats.step),
                    "step " + std::to_string(stats.step), {0.7, 1.0}, config.seed);
    const double now = ranks.distributed() ? agreed.seconds : elapsed();  // MPI: the clock at the step's start
    if (!test_col.empty() || now - last_checkpoint >= config.checkpoint_seconds) {
      const std::string bad = checkpoint();
      if (!bad.empty()) return stop_diverged(bad);
    }
  }
  progress.finish();
  memory_watch.after_training();
  if (const std::string bad = checkpoint(); !bad.empty()) return stop_diverged(bad);
  if (interrupted) {
    if (!req.quiet)
      std::printf("%s at step %zu; checkpoint written to %s (continue with --resume)\n",
                interrupt_signal() == SIGTERM ? "terminated (SIGTERM)" : "interrupted", trainer.steps_done(),
                ckpt_path.c_str());
    return interrupt_exit_code();  // 130 on a rank stopped by another rank's signal
  }

  // The run is complete and saved; a signal from here on skips what is left of the outputs.
  auto stopped_in = [&](const char* phase) {
    if (!req.quiet)
      std::printf("%s during the %s; the run is complete: checkpoint (step %zu) in %s (evaluate it with flowzoo eval)\n",
                interrupt_signal() == SIGTERM ? "terminated (SIGTERM)" : "interrupted", phase, trainer.steps_done(),
                ckpt_path.c_str());
    return interrupt_exit_code();
  };
  if (!req.quiet) {
    std::printf("training: final evaluation started\n");
    std::fflush(stdout);
  }
  const double final_metric = evaluate(config.final_eval_limit);
  if (any_rank(ranks, interrupt_requested())) return stopped_in("final evaluation");
  if (!lead) return kExitOk;  // the rest is rank 0's writing
  write_samples(*model, trainer, data, config, req.out_dir, "final", "step " + std::to_string(trainer.steps_done()),
                {0.5, 0.7, 0.9, 1.0}, config.seed);
  if (interrupt_requested()) return stopped_in("final samples");
  write_training_curve(metrics_path, (fs::path(req.out_dir) / "curve.png").string(),
                       {run_title(config) + ": training curve", data.toy ? "NLL (nats)" : "bits/dim", req.log_y});
  if (data.toy)
    write_density(*model, trainer, (fs::path(req.out_dir) / "density.png").string(), "", -4, 4, 200,
                  run_title(config) + ": learned density, step " + std::to_string(trainer.steps_done()));
  if (interrupt_requested()) return stopped_in("final plots");
  const std::size_t n_eval = data.toy ? toy_test.shape()[0]
                             : (config.final_eval_limit ? std::min(config.final_eval_limit, data.test.size())
                                                        : data.test.size());
  const double wall = wall_before + elapsed();
  write_results((fs::path(req.out_dir) / "results.json").string(), config, data.toy, final_metric, n_eval,
                trainer.steps_done(), wall, model->num_parameters(), model->dims());
  if (req.quiet) return kExitOk;
  std::printf("done: %zu steps in %s s; test %s = %.4f on %zu %s%s\n", trainer.steps_done(), fmt(wall, 4).c_str(),
              unit.c_str(), final_metric, n_eval, data.toy ? "fresh samples" : "test images",
              conditional ? " (class-conditional: -log p(x | y); flowzoo eval adds the Bayes accuracy)"
              : model->dequantizer() ? " (variational bound)" : "");
  if (config.train.memory_saving == "invertible")  // flows/memory_saving.hpp: how well inverse() rebuilt inputs
    std::printf("  invertible backprop: worst reconstruction error max|forward(x_rec) - y| = %.3g\n",
                worst_reconstruction_error(*model));
  std::printf("  checkpoint  %s\n  config      %s\n  results     %s\n  metrics     %s\n  curve       %s\n"
              "  samples     %s\n",
              ckpt_path.c_str(), (fs::path(req.out_dir) / "config.json").c_str(),
              (fs::path(req.out_dir) / "results.json").c_str(), metrics_path.c_str(),
              (fs::path(req.out_dir) / "curve.png").c_str(),
              (fs::path(req.out_dir) / "samples_final_T*.png").c_str());
  if (data.toy) std::printf("  density     %s\n", (fs::path(req.out_dir) / "density.png").c_str());
  if (req.memory_report) std::fputs(memory_watch.report().c_str(), stdout);
  return kExitOk;
}

}  // namespace

int run_train(const TrainRequest& req) {
  // --memory-report: tensor memory counted from the start (tensor/memory_counter.hpp; off
  // otherwise, it costs a few percent of a small model's step).
  if (req.memory_report) set_tensor_memory_counting(true);
  // First, before any slow work (data loading, config writing): a signal at any phase from
  // here on stops the run cleanly instead of killing it.
  install_interrupt_handler();
  Collective& ranks = current_collective();
  if (ranks.distributed()) {
    // A rank that fails must not leave the others waiting in a collective: print, then end
    // every rank with the exit code a single process would have had.
    TrainRequest mine = req;
    if (!is_lead(ranks)) mine.quiet = true;
    try {
      return train_in_locked_folder(mine);
    } catch (const std::exception& e) {
      abort_all_ranks(ranks, e.what(), exit_code_for(std::current_exception()));
    } catch (...) {
      abort_all_ranks(ranks, "unknown error", kExitError);
    }
  }
  try {
    return train_in_locked_folder(req);
  } catch (const RunFolderConflict& e) {
    std::fprintf(stderr, "flowzoo: %s\n", e.what());
    return kExitBadFlag;
  }
}

}  // namespace fz::cli
