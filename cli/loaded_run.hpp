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

LoadedRun load_run(const std::string& checkpoint_path);

}  // namespace fz::cli
