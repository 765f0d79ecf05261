// cli/loaded_run.hpp — rebuilding a trained model from a checkpoint: configuration from its
// metadata, the model from the preset, then weights, optimiser, averages and RNG state.
#pragma once

#include <memory>
#include <string>

#include "cli/checkpoint.hpp"

namespace fz::cli {

struct LoadedRun {
  CheckpointInfo info;
  std::shared_ptr<FlowModel<float>> model;
  std::unique_ptr<Trainer<float>> trainer;  // for its evaluation helpers and the averaged weights
};

// Refuses (before building the model) a configuration out of range or too big for this
// machine to evaluate `batch` samples at once; `batch_flag` names the flag that chose the
// batch, if one did (cli/memory_guard.hpp, check_checkpoint_fits).
LoadedRun load_run(const std::string& checkpoint_path, std::size_t batch = 256, const std::string& batch_flag = "");

}  // namespace fz::cli
