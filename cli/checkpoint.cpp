// cli/checkpoint.cpp — checkpoint layout on top of safetensors.
#include "cli/checkpoint.hpp"

#include "tensor/safetensors.hpp"

namespace fz::cli {

namespace {

const char* kConfigKey = "flowzoo.config";
const char* kStepKey = "flowzoo.step";
const char* kRngKey = "flowzoo.rng";
const char* kWallKey = "flowzoo.wall_seconds";

void append(NamedTensors& out, const std::string& prefix, const StateDict<float>& state) {
  for (const auto& [name, t] : state) out.f32.emplace_back(prefix + name, t);
}

StateDict<float> with_prefix(const NamedTensors& in, const std::string& prefix) {
  StateDict<float> state;
  for (const auto& [name, t] : in.f32)
    if (name.compare(0, prefix.size(), prefix) == 0) state.insert(name.substr(prefix.size()), t);
  return state;
}

CheckpointInfo info_from(const NamedTensors& file, const std::string& path) {
  CheckpointInfo info;
  auto meta = [&](const char* key) -> const std::string& {
    auto it = file.metadata.find(key);
    if (it == file.metadata.end())
      throw std::runtime_error("checkpoint '" + path + "' is not a flowzoo checkpoint (no " + key + " metadata)");
    return it->second;
  };
  try {
    info.config = run_config_from_json(nlohmann::json::parse(meta(kConfigKey)));
    info.step = std::stoull(meta(kStepKey));
    info.wall_seconds = std::stod(meta(kWallKey));
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint '" + path + "' has corrupt metadata: " + e.what());
  }
  return info;
}

}  // namespace

void save_checkpoint(const std::string& path, Trainer<float>& trainer, const RunConfig& config,
                     double wall_seconds) {
  NamedTensors out;
  append(out, "model.", trainer.model().state_dict());
  append(out, "optim.", trainer.optimizer().state_dict());
  if (trainer.ema()) append(out, "ema.", trainer.ema()->state_dict());
  append(out, "trainer.", trainer.state_dict());  // divergence recoveries (learning-rate scale)
  out.metadata[kConfigKey] = to_json(config).dump();
  out.metadata[kStepKey] = std::to_string(trainer.steps_done());
  out.metadata[kRngKey] = trainer.rng().state_string();
  char wall[64];
  std::snprintf(wall, sizeof wall, "%.17g", wall_seconds);
  out.metadata[kWallKey] = wall;
  out.metadata["format"] = "pt";  // what the safetensors Python package expects for torch users
  save_safetensors(path, out);
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  return info_from(load_safetensors(path), path);
}

CheckpointInfo load_checkpoint(const std::string& path, FlowModel<float>& model, Trainer<float>* trainer) {
  const NamedTensors file = load_safetensors(path);
  CheckpointInfo info = info_from(file, path);
  try {
    model.load_state_dict(with_prefix(file, "model."));
    if (trainer) {
      trainer->optimizer().load_state_dict(with_prefix(file, "optim."));
      if (trainer->ema()) trainer->ema()->load_state_dict(with_prefix(file, "ema."));
      trainer->load_state_dict(with_prefix(file, "trainer."));  // empty in older checkpoints
      trainer->rng().set_state_string(file.metadata.at(kRngKey));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("checkpoint '" + path + "' does not match this model: " + e.what());
  }
  return info;
}

}  // namespace fz::cli
