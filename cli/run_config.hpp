// cli/run_config.hpp — everything that defines a training run, as one struct that is written
// to <out>/config.json and read back by eval, sample, density and --resume: enough to rebuild
// the model exactly and continue the run. Fields added later (the divergence guard's) are
// optional in the JSON: a config.json without them reads with their defaults.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "flows/presets.hpp"
#include "flows/trainer.hpp"

namespace fz::cli {

// The bounds of every numeric field, shared by the flags (cli/main.cpp) and validate(), which
// also checks a configuration read from a checkpoint. Generous for real use; what they stop is
// an absurd value (a step count of 1e27, a width that sizes gigabytes per layer). Whether a
// model within them fits in memory is checked apart (cli/memory_guard.hpp).
struct RunLimits {
  static constexpr std::uint64_t kMaxLevels = 8, kMaxStepsPerLevel = 256, kMaxHidden = 8192, kMaxBlocks = 64,
                                 kMaxCouplings = 256, kMaxImageSize = 16384, kMaxBatch = 65536,
                                 kMaxSteps = 1000000000, kMaxThreads = 1024;
  static constexpr double kMaxEpochs = 1e6, kMaxMinutes = 1e7, kMaxCheckpointSeconds = 1e7, kMaxLr = 10,
                          kMaxClip = 1e12;
  // The transformers' sizes (cli/transformer_flags.hpp): spline bins and tail bound, mixture components.
  static constexpr std::uint64_t kMaxBins = 64, kMaxMixtures = 64;
  static constexpr std::uint64_t kMaxAttentionHeads = 64;
  static constexpr double kMaxTailBound = 100;
  // A continuous flow's fixed-step solver (cli/ode_flags.hpp): steps over [0, 1].
  static constexpr std::uint64_t kMaxOdeSteps = 10000;
  // Class-conditional runs (train --conditional): classes of the labels.
  static constexpr std::uint64_t kMaxClasses = 1000;
  // Variational dequantization (--dequant-hidden): channels of q(u | x)'s convolutions.
  static constexpr std::uint64_t kMaxDequantHidden = 1024;
};

struct RunConfig {
  PresetConfig model;                // architecture (model.event_shape comes from the data)
  std::string dataset = "fashion-mnist";  // fashion-mnist | mnist | cifar10 | folder | toy
  std::string data_dir;              // empty = the dataset's default location
  std::string density = "moons";     // toy data only
  std::size_t image_size = 0;        // folder datasets: resize/crop to this (0 = 32)
  std::size_t channels = 0;          // folder datasets: 1 or 3 (0 = 3)
  double max_megapixels = 50;        // folder datasets: larger images are refused before decoding
  std::size_t batch = 64;
  std::size_t steps = 0;             // stop after this many steps (0 = not by steps)
  double epochs = 0;                 // ... or epochs
  double minutes = 0;                // ... or wall-clock minutes
  TrainerOptions train;
  std::uint64_t seed = 0;
  int threads = 0;                   // 0 = all cores
  std::size_t eval_every = 500;      // steps between periodic test evaluations (0 = off)
  std::size_t eval_limit = 1000;     // test images used by periodic evaluations
  std::size_t final_eval_limit = 0;  // test images for the final evaluation (0 = all)
  std::size_t sample_every = 1000;   // steps between sample grids (0 = off)
  double checkpoint_seconds = 60;    // seconds between checkpoints (also at every eval)
  // How pixels become the model's continuous input (images only): "uniform" (u ~ U[0, 1)) or
  // "variational" (a learned q(u | x), flows/variational_dequantizer.hpp, with
  // `dequant_hidden` channels; the reported bits/dim are then the variational bound). In
  // config.json as "dequantization": {"kind", "hidden"}; absent in older runs (uniform).
  std::string dequantization = "uniform";
  std::size_t dequant_hidden = 16;
  bool variational_dequantization() const { return dequantization == "variational"; }

  bool is_toy() const { return dataset == "toy"; }
  // Throws std::invalid_argument naming the first bad field.
  void validate() const;
};

// The training recipe a model family trains stably with when the user does not choose (the
// CLI fills every unset --lr/--warmup/--clip from it, so config.json holds the resolved values).
// Image data, every family (glow, realnvp, nice): Adam, lr 1e-3, warmup 200, clip 50 — without
// warmup and clipping the README's Glow run diverged after 2,600 steps (9 minutes); with them
// 10- and 30-minute Glow/RealNVP/NICE runs were stable. 2-D toy data: lr 1e-3, no warmup, no
// clipping (toy RealNVP reaches a test NLL of about 0.35 on moons with it).
struct TrainingRecipe {
  double lr = 1e-3;
  std::size_t warmup_steps = 0;
  double clip_grad_norm = 0.0;
};
TrainingRecipe default_training_recipe(const std::string& model, const std::string& dataset);
// Sets the recipe's value of each field whose flag was not given.
void apply_training_recipe(RunConfig& c, bool lr_given, bool warmup_given, bool clip_given);

nlohmann::json to_json(const RunConfig& c);
RunConfig run_config_from_json(const nlohmann::json& j);
void write_config(const std::string& path, const RunConfig& c);
// A run's config.json (train --config): one-line std::runtime_error naming the file when it is
// missing, not JSON, has a field this flowzoo does not write (a typo is refused, not ignored),
// lacks one, or holds a value out of range. (Checkpoints' configurations, read by
// run_config_from_json, may carry fields a later flowzoo added.)
RunConfig read_config(const std::string& path);

}  // namespace fz::cli
