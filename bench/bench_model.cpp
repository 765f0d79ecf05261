// bench/bench_model.cpp — the model workloads of ../shared/BENCHMARKS.md (toy-realnvp,
// nice-fmnist, realnvp-fmnist, glow-fmnist) and of issue 13's "Speed" (toy-nsf, maf-toy) on
// flowzoo's side; bench/torch_models.py is the PyTorch side with the same architectures, flags
// and output lines. A program, not a test.
//
// Speed (default): builds the workload's preset at its defaults (which is the BENCHMARKS.md
// architecture; the parameter count is printed so the runner can check that both sides match),
// or for toy-nsf and maf-toy the model from its parts (make_toy_nsf, make_maf_toy below; they
// do not depend on the --model nsf|maf presets, so the workloads stay fixed if those change),
// trains it with fz::Trainer (Adam lr 1e-3) on real Fashion-MNIST batches (or fresh two-moons
// samples for the toy), and times each whole optimiser step — dequantization, forward, backward,
// gradient norm and Adam update — with steady_clock. Fetching the next batch is not timed (on
// either side). Prints the median over `--steps` timed steps after `--warmup` untimed ones.
//
// Quality (--quality MINUTES): trains for that wall-clock budget with the shared recipe of both
// sides (Adam lr 1e-3, linear warmup over 200 steps, gradient-norm clipping at 50, the
// workload's batch), then prints the test bpd on the first --test-images (default all 10,000)
// test images with one dequantization draw, or for the toy the test NLL (nats) on 20,000 fresh
// samples.
//
// Output: tab-separated lines  <workload> <threads> flowzoo <value> <unit>  (bench_common.hpp):
//   <w>              s/step   median step seconds           (speed)
//   <w>_params       params   trainable parameter count     (both modes)
//   <w>_loss_first   bpd|nats loss of the first step (a cross-check of the two sides)
//   <w>_loss_last    bpd|nats loss of the last step
//   <w>_rss          MB       peak resident memory, getrusage (the runner also uses time -v)
//   <w>_quality      bpd|nats test bpd / NLL after the budget  (quality)
//   <w>_quality_steps steps   optimiser steps taken in the budget
//
// Usage: bench_model --workload toy-realnvp|toy-nsf|maf-toy|nice-fmnist|realnvp-fmnist|glow-fmnist
//                    [--threads T (2)] [--steps N (30)] [--warmup W (5)] [--batch B]
//                    [--quality MINUTES] [--test-images N (10000)] [--seed S (0)]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/fashion_mnist.hpp"
#include "datasets/loader.hpp"
#include "datasets/toy2d.hpp"
#include "flows/bijectors/coupling_factories.hpp"
#include "flows/bijectors/masked_autoregressive.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "flows/transformers/affine.hpp"
#include "flows/transformers/rational_quadratic_spline.hpp"
#include "tensor/parallel.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string workload;
  int threads = 2;
  int steps = 30;
  int warmup = 5;
  std::size_t batch = 0;  // 0 = the workload's BENCHMARKS.md batch
  double quality_minutes = -1;  // < 0: speed mode
  std::size_t test_images = 10000;
  std::uint64_t seed = 0;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr,
               "bench_model: %s\nusage: bench_model --workload toy-realnvp|toy-nsf|maf-toy|nice-fmnist|realnvp-fmnist|"
               "glow-fmnist [--threads T] [--steps N] [--warmup W] [--batch B] [--quality MINUTES] "
               "[--test-images N] [--seed S]\n",
               what.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--workload") o.workload = value();
      else if (a == "--threads") o.threads = std::stoi(value());
      else if (a == "--steps") o.steps = std::stoi(value());
      else if (a == "--warmup") o.warmup = std::stoi(value());
      else if (a == "--batch") o.batch = std::stoul(value());
      else if (a == "--quality") o.quality_minutes = std::stod(value());
      else if (a == "--test-images") o.test_images = std::stoul(value());
      else if (a == "--seed") o.seed = std::stoull(value());
      else usage_error("unknown flag '" + a + "'");
    } catch (const std::logic_error&) {  // stoi & co.: not a number / out of range
      usage_error("bad value for " + a);
    }
  }
  if (o.workload.empty()) usage_error("--workload is required");
  if (o.threads < 1 || o.steps < 1 || o.warmup < 0) usage_error("--threads and --steps must be >= 1, --warmup >= 0");
  return o;
}

bool is_toy(const std::string& workload) {
  return workload == "toy-realnvp" || workload == "toy-nsf" || workload == "maf-toy";
}

// The 2-D single-scale flows of the toy workloads: one chain, standard normal base.
std::shared_ptr<fz::FlowModel<float>> toy_model(std::shared_ptr<fz::Chain<float>> flow) {
  std::vector<fz::FlowModel<float>::Scale> scales = {{std::move(flow), nullptr}};
  return std::make_shared<fz::FlowModel<float>>(fz::Shape{2}, nullptr, scales,
                                                std::make_shared<fz::StandardNormal<float>>());
}

// toy-nsf: 8 rational-quadratic spline couplings on the two coordinates (even/odd, alternating
// parity), each conditioned by MLP 1 -> 64 -> 64 -> 23 (3K - 1 = 23 spline parameters for
// K = 8 bins; PyTorch's default Linear init), tail bound 3, minimum bin width, height and
// derivative 1e-3 (the op's defaults). 46,264 parameters.
std::shared_ptr<fz::FlowModel<float>> make_toy_nsf(fz::Rng& rng) {
  fz::RationalQuadraticSplineOptions spline;
  spline.bins = 8;
  spline.tail_bound = 3.0;
  spline.min_bin_width = spline.min_bin_height = spline.min_derivative = 1e-3;
  auto flow = std::make_shared<fz::Chain<float>>();
  for (std::size_t i = 0; i < 8; ++i)
    flow->add(fz::make_mlp_coupling<float>(2, i % 2 == 1, 64, 2, rng,
                                           std::make_shared<fz::RationalQuadraticSplineTransformer<float>>(spline)));
  return toy_model(flow);
}

// maf-toy: make_maf's stack of 5 MAF layers with a Reverse between consecutive ones, each a
// MADE 2 -> 64 -> 64 -> 4 (natural order, zero-initialised output map) feeding the affine
// transformer with log_s = tanh(s) (AffineTransformer without learned scale, as the 2-D toys).
// 23,060 parameters (the masked-out weights count: they are stored and updated).
std::shared_ptr<fz::FlowModel<float>> make_maf_toy(fz::Rng& rng) {
  fz::TransformerFactory<float> affine = [] { return std::make_shared<fz::AffineTransformer<float>>(2, false); };
  return toy_model(fz::make_maf<float>(2, 5, 64, 2, affine, rng));
}

// The workload's model and batch size: a BENCHMARKS.md preset at its defaults, or one of the
// two issue-13 toys built above.
std::shared_ptr<fz::FlowModel<float>> model_for(const std::string& workload, fz::Rng& rng, std::size_t& batch) {
  fz::PresetConfig c;
  std::size_t default_batch = 64;
  std::shared_ptr<fz::FlowModel<float>> model;
  if (workload == "toy-realnvp") {
    c.model = "realnvp";
    c.event_shape = {2};
    default_batch = 512;
  } else if (workload == "toy-nsf") {
    model = make_toy_nsf(rng);
    default_batch = 512;
  } else if (workload == "maf-toy") {
    model = make_maf_toy(rng);
    default_batch = 512;
  } else if (workload == "nice-fmnist") {
    c.model = "nice";
    default_batch = 200;
  } else if (workload == "realnvp-fmnist") {
    c.model = "realnvp";
  } else if (workload == "glow-fmnist") {
    c.model = "glow";  // defaults: L = 2, K = 8, hidden 128, affine, LU
  } else {
    usage_error("unknown workload '" + workload +
                "' (toy-realnvp, toy-nsf, maf-toy, nice-fmnist, realnvp-fmnist, glow-fmnist)");
  }
  if (batch == 0) batch = default_batch;
  return model ? model : fz::make_flow<float>(c, rng);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

fz::TensorU8 first_images(const fz::ImageDataset& data, std::size_t n) {
  std::vector<std::size_t> idx(std::min(n, data.size()));
  std::iota(idx.begin(), idx.end(), 0);
  return fz::subset(data, idx).images;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::size_t batch_size = o.batch;
  const bool toy = is_toy(o.workload);
  const bool quality = o.quality_minutes >= 0;
  const char* w = o.workload.c_str();
  const char* loss_unit = toy ? "nats" : "bpd";
  fz::set_num_threads(o.threads);

  try {
    fz::Rng init_rng(o.seed);
    auto model = model_for(o.workload, init_rng, batch_size);
    fz::TrainerOptions topt;  // Adam, lr 1e-3
    if (quality) {
      // The one recipe both sides use for quality runs (torch_models.py does the same).
      topt.warmup_steps = 200;
      topt.clip_grad_norm = 50.0;
    }
    fz::Trainer<float> trainer(model, topt, o.seed);

    // Data: a shuffled loader over the 60,000 training images, or fresh two-moons samples.
    std::unique_ptr<fz::DataLoader> loader;
    fz::ImageDataset test_set;
    if (!toy) {
      fz::LoaderOptions lopt;
      lopt.batch_size = batch_size;
      lopt.drop_last = true;
      lopt.seed = o.seed;
      loader = std::make_unique<fz::DataLoader>(fz::load_fashion_mnist(/*train=*/true), lopt);
      if (quality) test_set = fz::load_fashion_mnist(/*train=*/false);
    }
    fz::Batch batch;
    std::uint64_t toy_step = 0;
    fz::Tensor<float> toy_batch;
    auto next_batch = [&] {
      if (toy) toy_batch = fz::sample_toy2d<float>(fz::Toy2D::Moons, batch_size, 1000 + toy_step++);
      else while (!loader->next(batch)) {}  // end of an epoch: reshuffle and go on
    };
    auto step = [&] { return toy ? trainer.step_continuous(toy_batch) : trainer.step_images(batch.images); };

    std::printf("%s_params\t%d\tflowzoo\t%zu\tparams\n", w, o.threads, model->num_parameters());
    std::fflush(stdout);
    double first_loss = 0, last_loss = 0;
    if (!quality) {
      std::vector<double> times;
      for (int i = 0; i < o.warmup + o.steps; ++i) {
        next_batch();
        const auto t0 = Clock::now();
        const fz::StepStats s = step();
        const double dt = seconds_since(t0);
        if (i == 0) first_loss = s.loss;
        last_loss = s.loss;
        if (i >= o.warmup) times.push_back(dt);
      }
      std::sort(times.begin(), times.end());
      const std::size_t n = times.size();
      const double median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
      std::printf("%s\t%d\tflowzoo\t%.6f\ts/step\n", w, o.threads, median);
    } else {
      const auto start = Clock::now();
      std::size_t steps = 0;
      double last_print = 0;
      while (seconds_since(start) < 60.0 * o.quality_minutes) {
        next_batch();
        const fz::StepStats s = step();
        if (steps++ == 0) first_loss = s.loss;
        last_loss = s.loss;
        if (seconds_since(start) - last_print > 30) {
          last_print = seconds_since(start);
          std::fprintf(stderr, "bench_model %s: step %zu, loss %.4f, %.0f s\n", w, steps, s.loss, last_print);
        }
      }
      double result;
      if (toy) {
        result = trainer.evaluate_continuous(fz::sample_toy2d<float>(fz::Toy2D::Moons, 20000, 7), 2000);
      } else {
        result = trainer.evaluate_images(first_images(test_set, o.test_images), 200, /*seed=*/o.seed);
      }
      std::printf("%s_quality\t%d\tflowzoo\t%.4f\t%s\n", w, o.threads, result, loss_unit);
      std::printf("%s_quality_steps\t%d\tflowzoo\t%zu\tsteps\n", w, o.threads, steps);
    }
    std::printf("%s_loss_first\t%d\tflowzoo\t%.4f\t%s\n", w, o.threads, first_loss, loss_unit);
    std::printf("%s_loss_last\t%d\tflowzoo\t%.4f\t%s\n", w, o.threads, last_loss, loss_unit);
    std::printf("%s_rss\t%d\tflowzoo\t%.1f\tMB\n", w, o.threads, peak_rss_mb());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
