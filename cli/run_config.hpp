// cli/run_config.hpp — everything that defines a training run, as one struct that is written
// to <out>/config.json and read back by eval, sample, density and --resume: enough to rebuild
// the model exactly and continue the run.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "flows/presets.hpp"
#include "flows/trainer.hpp"

namespace fz::cli {

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

  bool is_toy() const { return dataset == "toy"; }
  // Throws std::invalid_argument naming the first bad field.
  void validate() const;
};

nlohmann::json to_json(const RunConfig& c);
RunConfig run_config_from_json(const nlohmann::json& j);
void write_config(const std::string& path, const RunConfig& c);
RunConfig read_config(const std::string& path);

}  // namespace fz::cli
