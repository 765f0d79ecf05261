// cli/commands.hpp — the flowzoo subcommands as functions (main.cpp parses flags into these
// structs; tests call the functions directly). Each returns the process exit code.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "cli/run_config.hpp"

namespace fz::cli {

// Exit codes shared by every command.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;        // bad input, missing files, corrupt checkpoints, a run folder in use
constexpr int kExitBadFlag = 2;      // bad flags, or flags the run folder contradicts (cli/run_folder.hpp)
constexpr int kExitDiverged = 3;     // a non-finite loss or gradient stopped training
constexpr int kExitInterrupted = 130;  // SIGINT: the step finished and a checkpoint was written
constexpr int kExitTerminated = 143;   // SIGTERM: the same

struct TrainRequest {
  RunConfig config;
  std::string out_dir = "runs/latest";
  bool resume = false;
  bool force = false;  // a fresh run into a folder holding one: move the old run aside first
  std::set<std::string> given_flags;  // flags typed on the command line ("--lr"), for --resume
  bool quiet = false;  // no progress output (tests)
  bool log_layers = false;  // per-layer bits/dim at every periodic evaluation, in <out>/layers.csv
  bool log_y = false;  // curve.png with a logarithmic loss axis
  // Class-conditional priors over the dataset's labels (config.model.classes is then set from
  // the data); a --config or --resume run with model.classes > 0 is conditional without it.
  bool conditional = false;
  bool memory_report = false;  // --memory-report: where the memory went, at the end (cli/memory_report.hpp)
};
int run_train(const TrainRequest& request);

struct EvalRequest {
  std::string checkpoint;
  std::string split = "test";
  std::size_t limit = 0;  // 0 = the whole split
  bool json = false;
  std::string log_probs;  // --log-probs FILE: per-example log p(x) and inputs (cli/log_prob_export.hpp)
  int threads = -1;  // worker threads: -1 = the count the run was trained with, 0 = all cores
  std::size_t importance_samples = 1;  // images: S draws per image (flows/importance_weighted.hpp)
};
int run_eval(const EvalRequest& request);

struct SampleRequest {
  std::string checkpoint;
  std::size_t n = 64;
  std::vector<double> temperatures = {1.0};
  std::uint64_t seed = 0;
  std::string out;
  int upscale = 2;                 // image tiles: each pixel as upscale x upscale pixels
  double lo = -4, hi = 4;          // 2-D models: the range of both axes
  int threads = -1;  // worker threads: -1 = the count the run was trained with, 0 = all cores
  // Class-conditional runs (refused, exit 2, on others): --class K draws every sample from class
  // K's prior; --class-grid (also what a conditional run gets without either) a labelled row
  // of min(n, 16) samples per class.
  long class_index = -1;   // -1 = not given
  bool class_grid = false;
};
int run_sample(const SampleRequest& request);

struct DensityRequest {
  std::string checkpoint;
  std::string out;
  std::string csv;
  double lo = -4, hi = 4;
  std::size_t grid = 200;
  bool log_density = false;  // colour (and colour bar) by log p instead of p
  int threads = -1;  // worker threads: -1 = the count the run was trained with, 0 = all cores
};
int run_density(const DensityRequest& request);

// cli/zoo.cpp: every 2-D family trained on every toy density (zoo.csv, zoo.png).
struct ZooRequest {
  std::string out_dir;
  std::size_t steps = 2000;                 // per (family, density) run
  std::vector<std::string> densities;       // empty or {"all"} = every toy density
  std::vector<std::string> families;        // labels or model names; {"all"} = every family; empty = all but the slow ones (cli/zoo.cpp ZooFamily::slow)
  std::uint64_t seed = 0;
  int threads = 0;                          // 0 = all cores
  bool quiet = false;
};
int run_zoo(const ZooRequest& request);
// The gallery's row labels, in order (for --help and tests).
std::vector<std::string> zoo_family_labels();

// cli/fit.cpp: a flow fitted to an unnormalised 2-D energy by the reverse KL (fit.png, fit.json).
struct FitRequest {
  std::string energy = "u1";     // u1 | u2 | u3 | u4 (flows/energies.hpp)
  std::string model = "planar";  // planar | radial | realnvp | nsf
  std::size_t steps = 2000;
  std::string out_dir;
  std::size_t batch = 256;       // reparametrised samples per step
  double lr = 0;                 // 0 = the model's default: 1e-2 planar / radial, 1e-3 realnvp / nsf
  std::size_t layers = 0;        // planar / radial K (0 = 32); refused for realnvp and nsf
  std::string schedule = "cosine";  // cosine (lr -> lr / 100 at the last step) | constant
  std::uint64_t seed = 0;
  int threads = 0;               // 0 = all cores
  bool quiet = false;
};
int run_fit(const FitRequest& request);

// cli/study_flow_commands.cpp: looking inside a trained flow.
struct InspectRequest {
  std::string checkpoint;
  std::string split = "test";
  std::size_t limit = 0;  // 0 = the whole split (as eval)
  std::size_t depth = 0;  // 0 = every bijector; 1 = one row per top-level step (Glow step)
  bool json = false;
  int threads = -1;  // worker threads: -1 = the count the run was trained with, 0 = all cores
};
int run_inspect(const InspectRequest& request);

struct LatentsRequest {
  std::string checkpoint;
  std::string out_dir;
  std::string split = "test";
  std::size_t n = 8;         // images encoded, shown per level and reconstructed
  std::size_t pairs = 4;     // interpolation rows
  std::size_t steps = 8;     // interpolation points per row (endpoints included)
  std::size_t channels = 8;  // latent channels shown per level (at most)
  std::vector<double> temperatures = {0.5, 0.7, 0.9, 1.0};  // samples side by side (empty: none)
  std::uint64_t seed = 0;
  int upscale = 2;  // each tile pixel as upscale x upscale pixels
  int threads = -1;  // worker threads: -1 = the count the run was trained with, 0 = all cores
};
int run_latents(const LatentsRequest& request);

// train --log-layers: the periodic test evaluation done term by term. Returns exactly what
// Trainer::evaluate_images / evaluate_continuous return, and appends to csv_path a row "step,
// each term's share (bits/dim; nats for 2-D data), [dequantization,] total" (header first).
struct RunData;
double evaluate_logging_layers(Trainer<float>& trainer, const RunData& data, const RunConfig& config,
                               std::size_t step, const std::string& csv_path);

// cli/study_tape_commands.cpp: looking inside the tape of one training step (model, data and
// step as train builds them; the config's run length is ignored).
struct TapeRequest {
  RunConfig config;
  std::string dot;            // also write the graph as Graphviz DOT to this file
  std::size_t max_nodes = 0;  // nodes listed (0 = all)
};
int run_tape(const TapeRequest& request);

struct ProfileRequest {
  RunConfig config;
  std::size_t steps = 5;   // profiled training steps
  std::size_t warmup = 2;  // unprofiled steps first (initialisation, first allocations)
  std::size_t rows = 0;    // op types shown (0 = all)
  bool by_shape = false;   // one row per op and shapes (inputs -> output)
};
int run_profile(const ProfileRequest& request);

// `train --profile`: run_train with the op profiler attached; prints its table at the end.
int run_train_profiled(const TrainRequest& request);

}  // namespace fz::cli
