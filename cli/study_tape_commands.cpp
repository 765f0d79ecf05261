// cli/study_tape_commands.cpp — seeing inside the tape of a real training step:
//   `flowzoo tape`     what one step records (nodes, bytes held for backward, totals per op
//                      type, peak memory) and the graph as Graphviz DOT (TapeInspector);
//   `flowzoo profile`  time per op type, forward and backward, over a few steps (OpProfiler);
//   `train --profile`  the same table at the end of a training run.
// The model, data and step are train's own (RunConfig, make_flow, Trainer::step_images: a
// dequantized Fashion-MNIST batch, loss = mean bits/dim), so what is shown is what trains.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "autograd/op_profiler.hpp"
#include "autograd/tape_inspector.hpp"
#include "cli/commands.hpp"
#include "cli/memory_guard.hpp"
#include "cli/run_data.hpp"
#include "datasets/loader.hpp"
#include "tensor/parallel.hpp"

namespace fz::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A model with its trainer and training data, built exactly as `flowzoo train` builds them.
class StudyRun {
 public:
  StudyRun(RunConfig config, std::size_t steps) : config_(std::move(config)) {
    config_.steps = steps;  // only to satisfy validate(): these commands run their own steps
    config_.minutes = config_.epochs = 0;
    check_run_fits(config_);  // flags, and the memory they ask for, before loading anything
    set_num_threads(config_.threads);
    data_ = load_run_data(config_);
    config_.model.event_shape = data_.event_shape;
    config_.model = resolve_preset(config_.model);
    if (!data_.toy && data_.train.size() < config_.batch)
      throw std::invalid_argument("--batch " + std::to_string(config_.batch) + " is larger than the training set (" +
                                  std::to_string(data_.train.size()) + " images)");
    Rng init_rng(config_.seed);
    model_ = make_flow<float>(config_.model, init_rng);
    trainer_ = std::make_unique<Trainer<float>>(model_, config_.train, config_.seed);
    if (!data_.toy) {
      LoaderOptions lo;
      lo.batch_size = config_.batch;
      lo.seed = config_.seed;
      lo.drop_last = true;
      loader_ = std::make_unique<DataLoader>(data_.train, lo);
    }
  }

  // Fetches batch `s` (outside any timing), calls before() right before the step, runs it.
  template <typename Before>
  StepStats step(std::size_t s, Before before) {
    if (data_.toy) {
      const Tensor<float> x = data_.toy_batch(s, config_.batch);
      before();
      return trainer_->step_continuous(x);
    }
    const std::size_t per_epoch = loader_->num_batches();
    const std::uint64_t epoch = s / per_epoch;
    if (loader_->epoch() != epoch) loader_->set_epoch(epoch);
    const TensorU8 images = loader_->batch(s % per_epoch).images;
    before();
    return trainer_->step_images(images);
  }
  StepStats step(std::size_t s) {
    return step(s, [] {});
  }

  // "glow (levels 2, steps/level 8, hidden 128), 1234 parameters, batch 64 of (1,28,28) from fashion-mnist"
  std::string describe() const {
    const PresetConfig& m = config_.model;
    std::ostringstream s;
    s << m.model << " (";
    const bool images = m.event_shape.size() == 3;
    if (m.model == "glow" && images)
      s << "levels " << m.levels << ", steps/level " << m.steps_per_level << ", " << (m.affine ? "affine" : "additive")
        << ", " << (m.lu ? "LU 1x1" : "plain 1x1") << ", ";
    if (m.model == "realnvp" && images) s << "scales " << m.levels << ", ";
    if (m.couplings) s << "couplings " << m.couplings << ", ";
    if (m.blocks) s << "blocks " << m.blocks << ", ";
    s << "hidden " << m.hidden << "), " << model_->num_parameters() << " parameters; batch " << config_.batch << " of "
      << shape_str(data_.event_shape) << " from " << config_.dataset << (data_.toy ? " (" + config_.density + ")" : "")
      << ", loss = " << (data_.toy ? "NLL in nats" : "bits/dim") << ", threads " << num_threads();
    return s.str();
  }
  const char* unit() const { return data_.toy ? "nats" : "bpd"; }

 private:
  RunConfig config_;
  RunData data_;
  std::shared_ptr<FlowModel<float>> model_;
  std::unique_ptr<Trainer<float>> trainer_;
  std::unique_ptr<DataLoader> loader_;
};

}  // namespace

int run_tape(const TapeRequest& req) {
  std::ofstream dot;
  if (!req.dot.empty()) {  // before the (slower) data loading, so a bad path fails at once
    dot.open(req.dot);
    if (!dot) throw std::runtime_error("--dot: cannot write '" + req.dot + "'");
  }
  StudyRun run(req.config, 2);
  std::printf("flowzoo tape: %s\n", run.describe().c_str());
  // A warm-up step first: the data-dependent initialisation (ActNorm) runs on the first batch,
  // and the step after it is the one that repeats for the rest of training.
  run.step(0);
  // Attached once the batch is fetched, so node 0's heap column starts at the step itself.
  std::unique_ptr<TapeInspector<float>> attached;
  Clock::time_point start;
  const StepStats stats = run.step(1, [&] {
    attached = std::make_unique<TapeInspector<float>>();
    start = Clock::now();
  });
  const double secs = seconds_since(start);
  TapeInspector<float>& inspector = *attached;
  inspector.detach();
  std::printf("inspected step 2 (after one warm-up step): loss %.4f %s, %.1f ms with the inspector attached\n\n",
              stats.loss, run.unit(), secs * 1e3);
  std::ostringstream out;
  inspector.print_nodes(out, req.max_nodes);
  out << "\n";
  inspector.print_summary(out);
  std::fputs(out.str().c_str(), stdout);
  if (dot.is_open()) {
    inspector.write_dot(dot);
    dot.close();
    if (!dot) throw std::runtime_error("--dot: error writing '" + req.dot + "'");
    std::size_t edges = 0;
    for (const auto& n : inspector.nodes()) edges += n.inputs.size();
    std::printf("graph: %s (%zu nodes, %zu leaves, %zu edges; render with: dot -Tsvg %s -o tape.svg)\n",
                req.dot.c_str(), inspector.nodes().size(), inspector.leaves().size(), edges, req.dot.c_str());
  }
  return kExitOk;
}

int run_profile(const ProfileRequest& req) {
  if (req.steps == 0) throw std::invalid_argument("--steps must be at least 1");
  StudyRun run(req.config, req.warmup + req.steps);
  std::printf("flowzoo profile: %s\n", run.describe().c_str());
  // Warm-up, not profiled: ActNorm's data-dependent initialisation runs on the first batch, and
  // the first full-size step pays for first-touch allocations (about 3x slower on glow).
  for (std::size_t s = 0; s < req.warmup; ++s) run.step(s);
  OpProfiler<float> profiler(Tape<float>::current(), req.by_shape);
  double wall = 0, last_loss = 0;
  std::vector<double> step_seconds;
  for (std::size_t s = req.warmup; s < req.warmup + req.steps; ++s) {
    Clock::time_point start;
    const StepStats stats = run.step(s, [&] {
      start = Clock::now();
      profiler.mark();
    });
    step_seconds.push_back(seconds_since(start));
    wall += step_seconds.back();
    last_loss = stats.loss;
  }
  profiler.detach();
  std::printf("%zu profiled steps after %zu warm-up steps; last loss %.4f %s; step seconds:", req.steps, req.warmup,
              last_loss, run.unit());
  for (double s : step_seconds) std::printf(" %.3f", s);
  std::printf("\n\n");
  std::ostringstream out;
  profiler.print_table(out, wall, req.steps, req.rows);
  std::fputs(out.str().c_str(), stdout);
  return kExitOk;
}

int run_train_profiled(const TrainRequest& req) {
  OpProfiler<float> profiler;
  const auto start = Clock::now();
  const int status = run_train(req);
  const double wall = seconds_since(start);
  profiler.detach();
  const std::size_t steps = profiler.passes();
  std::ostringstream out;
  out << "\nop profile of the training steps (train --profile):\n";
  profiler.print_table(out, 0, steps);
  char line[256];
  const double ops = profiler.forward_seconds() + profiler.backward_seconds();
  std::snprintf(line, sizeof line,
                "the whole run took %.3g s: %.3g s (%.1f%%) in recorded ops and backward closures; the rest is the\n"
                "optimiser, evaluation, sampling, checkpoints, data and the first op of each step (untimed)\n",
                wall, ops, wall > 0 ? 100.0 * ops / wall : 0.0);
  out << line;
  std::fputs(out.str().c_str(), stdout);
  return status;
}

}  // namespace fz::cli
