// cli/commands.hpp — the flowzoo subcommands as functions (main.cpp parses flags into these
// structs; tests call the functions directly). Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

#include "cli/run_config.hpp"

namespace fz::cli {

// Exit codes shared by every command.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;        // bad input, missing files, corrupt checkpoints
constexpr int kExitDiverged = 3;     // a non-finite loss or gradient stopped training
constexpr int kExitInterrupted = 130;  // SIGINT: the step finished and a checkpoint was written

struct TrainRequest {
  RunConfig config;
  std::string out_dir = "runs/latest";
  bool resume = false;
  bool quiet = false;  // no progress output (tests)
};
int run_train(const TrainRequest& request);

struct EvalRequest {
  std::string checkpoint;
  std::string split = "test";
  std::size_t limit = 0;  // 0 = the whole split
  bool json = false;
};
int run_eval(const EvalRequest& request);

struct SampleRequest {
  std::string checkpoint;
  std::size_t n = 64;
  std::vector<double> temperatures = {1.0};
  std::uint64_t seed = 0;
  std::string out;
};
int run_sample(const SampleRequest& request);

struct DensityRequest {
  std::string checkpoint;
  std::string out;
  std::string csv;
  double lo = -4, hi = 4;
  std::size_t grid = 200;
};
int run_density(const DensityRequest& request);

}  // namespace fz::cli
