// tests/mpi/mpi_equivalence.cpp — data-parallel training equals single-process training (as
// PyTorch's DDP tests check): run under `mpirun -np N` (scripts/mpi_check.sh runs it with N = 2).
// Every rank first trains the single-process reference itself (inside a single_process() scope:
// the whole global batch, nothing shared), then all ranks train together over MPI on the same
// global batches and seed, and each rank compares:
//   - the first step's loss and averaged gradient: ||g_mpi - g_ref|| / ||g_ref|| <= 1e-5;
//   - the parameters after 20 steps: |p_mpi - p_ref| <= 1e-4 (1 + |p_ref|) element by element;
//   - that the ranks hold the same parameters (a sum over ranks equals N x rank 0's);
// and checks the test can fail: rank 0's half of the batch alone (what a wrong averaging
// would train on) misses both bounds by far; a sum instead of a mean would double the gradient.
// Models: toy-realnvp on two moons, and a tiny Glow (2 levels x 2 steps, ActNorm's
// data-dependent initialisation included) on 8x8 images; each in float64 with Adam (the CLI's
// default optimiser) and in float32 with SGD. (float32 with Adam is not held to 1e-4 after 20
// steps: Adam divides by sqrt(v), which turns the round-off of near-zero gradient entries —
// 1e-7 relative, the order of summation — into whole-step differences; the tiny Glow ends
// about 6e-4 apart, while float32 SGD agrees to 1e-8 and float64 Adam far below 1e-4.)
// Prints one PASS/FAIL line per check (rank 0) and exits non-zero on any failure.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/toy2d.hpp"
#include "flows/collective.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "tensor/layout.hpp"
#include "tensor/parallel.hpp"

namespace {

using fz::Collective;

constexpr std::size_t kSteps = 20;
constexpr std::size_t kBatch = 16;  // the global batch
constexpr std::uint64_t kSeed = 5;

struct Workload {
  std::string name;
  fz::PresetConfig model;
  bool images = false;
};

template <typename T>
struct RunResult {
  double first_loss = 0;
  std::vector<T> first_grad;  // the first step's (averaged) gradient, optimiser order
  std::vector<T> params;      // after kSteps
};

template <typename T>
std::vector<T> flat_grads(fz::Trainer<T>& t) {
  std::vector<T> out;
  for (const fz::Var<T>& p : t.optimizer().params())
    if (p.grad().defined()) out.insert(out.end(), p.grad().begin(), p.grad().end());
    else out.insert(out.end(), p.numel(), T(0));
  return out;
}

template <typename T>
std::vector<T> flat_params(fz::Trainer<T>& t) {
  std::vector<T> out;
  for (const fz::Var<T>& p : t.optimizer().params()) out.insert(out.end(), p.value().begin(), p.value().end());
  return out;
}

// Global batch `step` of the workload; `rows` < kBatch keeps only the first rows (the control).
fz::TensorU8 image_batch(std::size_t step, std::size_t rows) {
  fz::Rng rng(1000 + step);
  fz::TensorU8 full(fz::Shape{kBatch, 1, 8, 8});
  for (std::size_t i = 0; i < full.numel(); ++i) {
    const std::size_t x = i % 8, y = (i / 8) % 8;  // a gradient plus noise: not all channels alike
    full[i] = static_cast<std::uint8_t>(std::min(255.0, 16.0 * double(x + y) + rng.uniform(0, 30)));
  }
  if (rows == kBatch) return full;
  fz::TensorU8 part(fz::Shape{rows, 1, 8, 8});
  for (std::size_t i = 0; i < part.numel(); ++i) part[i] = full[i];
  return part;
}

template <typename T>
fz::Tensor<T> toy_batch(std::size_t step, std::size_t rows) {
  const fz::Tensor<T> full = fz::sample_toy2d<T>(fz::Toy2D::Moons, kBatch, 2000 + step);
  return rows == kBatch ? full : fz::slice(full, 0, 0, static_cast<long>(rows));
}

template <typename T>
RunResult<T> train(const Workload& w, const std::string& optimizer, std::size_t rows) {
  fz::Rng init(kSeed);
  auto model = fz::make_flow<T>(fz::resolve_preset(w.model), init);
  fz::TrainerOptions o;
  o.optimizer = optimizer;
  o.lr = 1e-3;
  fz::Trainer<T> trainer(model, o, kSeed);
  RunResult<T> r;
  for (std::size_t s = 0; s < kSteps; ++s) {
    fz::StepStats st;
    if (w.images) {
      st = trainer.step_images(image_batch(s, rows));
    } else {
      st = trainer.step_continuous(toy_batch<T>(s, rows));
    }
    if (!st.event.empty()) throw std::runtime_error(w.name + ": step " + std::to_string(s + 1) + " diverged");
    if (s == 0) {
      r.first_loss = st.loss;
      r.first_grad = flat_grads(trainer);
    }
  }
  r.params = flat_params(trainer);
  return r;
}

template <typename T>
double relative_l2(const std::vector<T>& a, const std::vector<T>& ref) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    d += (double(a[i]) - ref[i]) * (double(a[i]) - ref[i]);
    n += double(ref[i]) * ref[i];
  }
  return std::sqrt(d / n);
}

// max_i |a_i - ref_i| / (1 + |ref_i|)
template <typename T>
double worst_scaled(const std::vector<T>& a, const std::vector<T>& ref) {
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - ref[i]) / (1.0 + std::abs(double(ref[i]))));
  return worst;
}

int failures = 0;
void report(Collective& world, bool ok, const std::string& what) {
  // Every rank checks; rank 0 prints, and any rank's failure counts.
  const bool all_ok = !fz::any_rank(world, !ok);
  if (!all_ok) ++failures;
  if (world.rank() == 0) std::printf("%s mpi: %s\n", all_ok ? "PASS" : "FAIL", what.c_str());
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

// One workload at one precision and optimiser: the reference, the control, the run over all
// ranks, and the comparisons.
template <typename T>
void check_workload(Collective& world, const Workload& w, const std::string& optimizer, const std::string& kind) {
  const std::string name = w.name + " [" + kind + "]";
  RunResult<T> ref, half;
  {
    fz::CollectiveScope alone(fz::single_process());
    ref = train<T>(w, optimizer, kBatch);
    half = train<T>(w, optimizer, kBatch / 2);
  }
  const RunResult<T> mpi = train<T>(w, optimizer, kBatch);  // over all ranks: current_collective() is the world
  const std::string n = std::to_string(world.size());
  const double loss_err = std::abs(mpi.first_loss - ref.first_loss) / std::abs(ref.first_loss);
  report(world, loss_err <= 1e-5, name + ": first-step loss, np " + n + " vs 1: relative " + num(loss_err));
  const double g_err = relative_l2(mpi.first_grad, ref.first_grad);
  report(world, g_err <= 1e-5, name + ": first-step gradient, np " + n + " vs 1: relative L2 " + num(g_err) +
                                   " (<= 1e-5) over " + std::to_string(ref.first_grad.size()) + " values");
  const double p_err = worst_scaled(mpi.params, ref.params);
  report(world, p_err <= 1e-4,
         name + ": parameters after " + std::to_string(kSteps) + " steps: worst |d|/(1+|p|) " + num(p_err) + " (<= 1e-4)");
  // The same parameters on every rank: sum over ranks == size x mine, exactly.
  std::vector<T> sum = mpi.params;
  world.allreduce_sum(sum.data(), sum.size());
  double spread = 0;
  for (std::size_t i = 0; i < sum.size(); ++i)
    spread = std::max(spread, std::abs(double(sum[i]) - double(world.size()) * mpi.params[i]));
  report(world, spread == 0.0, name + ": every rank holds the same parameters (spread " + num(spread) + ")");
  // The checks can fail: half the batch (rank 0's rows alone) misses both bounds, each by more
  // than a factor of 2.
  const double half_g = relative_l2(half.first_grad, ref.first_grad);
  const double half_p = worst_scaled(half.params, ref.params);
  report(world, half_g > 2e-5 && half_p > 2e-4,
         name + ": control: rank 0's half batch alone misses both bounds by > 2x (gradient " + num(half_g) +
             ", parameters " + num(half_p) + ")");
}

}  // namespace

int main() {
  fz::set_num_threads(1);
  Collective& world = fz::launched_collective();
  if (!world.distributed()) {
    std::fprintf(stderr, "mpi_equivalence: run it with mpirun -np 2 (or more); this is a single process\n");
    return 1;
  }
  std::vector<Workload> workloads;
  {
    Workload toy{"toy-realnvp", {}, false};
    toy.model.model = "realnvp";
    toy.model.event_shape = {2};
    workloads.push_back(toy);
    Workload glow{"tiny glow (2 levels x 2 steps, hidden 8, 1x8x8)", {}, true};
    glow.model.model = "glow";
    glow.model.event_shape = {1, 8, 8};
    glow.model.levels = 2;
    glow.model.steps_per_level = 2;
    glow.model.hidden = 8;
    workloads.push_back(glow);
  }
  for (const Workload& w : workloads) {
    check_workload<double>(world, w, "adam", "float64, adam");
    check_workload<float>(world, w, "sgd", "float32, sgd");
  }
  if (world.rank() == 0) std::printf("mpi_equivalence: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
