// cli/checkpoint_metadata.cpp — strict parsing of the checkpoint's metadata strings.
#include "cli/checkpoint_metadata.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tensor/printable.hpp"
#include "tensor/random.hpp"

namespace fz::cli {

namespace {

// No run gets near this many steps; a larger number is corruption, not progress.
constexpr std::size_t kMaxStep = 1'000'000'000'000ull;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw std::runtime_error("checkpoint '" + printable(path, 200) + "': " + what);
}

std::string shown(const std::string& untrusted) { return "'" + printable(untrusted, 40) + "'"; }

// Decimal digits only (no sign, no spaces, no exponent), at most kMaxStep.
bool parse_step(const std::string& text, std::size_t& out) {
  if (text.empty() || text.size() > 13) return false;
  std::size_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + static_cast<std::size_t>(ch - '0');
  }
  if (v > kMaxStep) return false;
  out = v;
  return true;
}

// A finite, non-negative decimal number using the whole string.
bool parse_seconds(const std::string& text, double& out) {
  if (text.empty() || text.size() > 40) return false;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v) || v < 0) return false;
  out = v;
  return true;
}

}  // namespace

CheckpointInfo checkpoint_info_from_metadata(const std::map<std::string, std::string>& metadata,
                                             const std::string& path) {
  auto entry = [&](const char* key) -> const std::string& {
    auto it = metadata.find(key);
    if (it == metadata.end())
      bad(path, std::string("not a flowzoo checkpoint: its metadata has no ") + key + " entry");
    return it->second;
  };
  CheckpointInfo info;

  nlohmann::json config;
  try {
    config = nlohmann::json::parse(entry(kConfigKey));
  } catch (const nlohmann::json::parse_error& e) {
    bad(path, std::string("metadata ") + kConfigKey + " is not valid JSON (syntax error at byte " +
                  std::to_string(e.byte) + "): the file is corrupt");
  } catch (const nlohmann::json::exception&) {  // e.g. out_of_range for a number too large
    bad(path, std::string("metadata ") + kConfigKey + " is not valid JSON (a number out of range): the file is corrupt");
  }
  try {
    info.config = run_config_from_json(config);
    info.config.validate();
  } catch (const std::invalid_argument& e) {
    bad(path, std::string("metadata ") + kConfigKey + ": " + printable(e.what(), 300));
  }

  const std::string& step = entry(kStepKey);
  if (!parse_step(step, info.step))
    bad(path, std::string("metadata ") + kStepKey + " is " + shown(step) +
                  ", not a step count (a whole number from 0 to 10^12): the file is corrupt");

  const std::string& wall = entry(kWallKey);
  if (!parse_seconds(wall, info.wall_seconds))
    bad(path, std::string("metadata ") + kWallKey + " is " + shown(wall) +
                  ", not a number of seconds (finite, >= 0): the file is corrupt");

  info.rng_state = entry(kRngKey);
  try {
    Rng probe(0);
    probe.set_state_string(info.rng_state);
  } catch (const std::invalid_argument&) {
    bad(path, std::string("metadata ") + kRngKey + " is " + shown(info.rng_state) +
                  ", not a random generator state (six 64-bit hexadecimal words): the file is corrupt");
  }
  return info;
}

}  // namespace fz::cli
