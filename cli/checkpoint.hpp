// cli/checkpoint.hpp — a training run's checkpoint: one safetensors file holding every model
// parameter and persistent buffer ("model.<name>"), the optimiser state ("optim.<name>"), the
// Polyak averages ("ema.<name>"), the trainer's divergence-recovery state ("trainer.<name>":
// recoveries so far, hence the learning-rate scale, and the recent ones), and in its metadata the run configuration (JSON), the step,
// the trainer's RNG state and the wall-clock seconds trained so far. Written atomically
// (tensor/safetensors.hpp), so a run killed at any moment leaves the last good checkpoint.
#pragma once

#include <string>

#include "cli/checkpoint_metadata.hpp"
#include "cli/run_config.hpp"
#include "flows/trainer.hpp"

namespace fz::cli {

void save_checkpoint(const std::string& path, Trainer<float>& trainer, const RunConfig& config,
                     double wall_seconds);

// Reads only the configuration and counters (to rebuild the model before loading weights).
// The file is read whole and its checksum verified; the metadata is validated
// (cli/checkpoint_metadata.hpp). Errors name the file and what is wrong.
CheckpointInfo read_checkpoint_info(const std::string& path);

// Loads the model's parameters and buffers (and, with a trainer, optimiser, EMA and RNG
// state). Throws std::runtime_error naming the file and the mismatch (missing or unexpected
// tensors, wrong shapes).
CheckpointInfo load_checkpoint(const std::string& path, FlowModel<float>& model, Trainer<float>* trainer);

}  // namespace fz::cli
