// cli/checkpoint_metadata.hpp — reading and validating the flowzoo entries of a checkpoint's
// safetensors metadata: the run configuration (JSON), the step, the wall-clock seconds and the
// trainer's RNG state. Every value is checked before it is used, and a bad one is reported as
// a sentence naming the file and the field ("flowzoo.step is '-5', not a step count"), never
// as a library's exception text or the file's raw bytes. Kept apart from cli/checkpoint.cpp
// (which needs the model and trainer) so the fuzz target can link it alone.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "cli/run_config.hpp"

namespace fz::cli {

inline constexpr const char* kConfigKey = "flowzoo.config";
inline constexpr const char* kStepKey = "flowzoo.step";
inline constexpr const char* kRngKey = "flowzoo.rng";
inline constexpr const char* kWallKey = "flowzoo.wall_seconds";

struct CheckpointInfo {
  RunConfig config;
  std::size_t step = 0;
  double wall_seconds = 0.0;
  std::string rng_state;  // Rng::state_string(), validated
};

// Throws std::runtime_error naming `path` and the field when an entry is missing or invalid.
CheckpointInfo checkpoint_info_from_metadata(const std::map<std::string, std::string>& metadata,
                                             const std::string& path);

}  // namespace fz::cli
