// cli/checkpoint.cpp — checkpoint layout on top of safetensors.
#include "cli/checkpoint.hpp"

#include "tensor/printable.hpp"
#include "tensor/safetensors.hpp"

namespace fz::cli {

namespace {

void append(NamedTensors& out, const std::string& prefix, const StateDict<float>& state) {
  for (const auto& [name, t] : state) out.f32.emplace_back(prefix + name, t);
}

StateDict<float> with_prefix(const NamedTensors& in, const std::string& prefix) {
  StateDict<float> state;
  for (const auto& [name, t] : in.f32)
    if (name.compare(0, prefix.size(), prefix) == 0) state.insert(name.substr(prefix.size()), t);
  return state;
}

}  // namespace

void save_checkpoint(const std::string& path, Trainer<float>& trainer, const RunConfig& config,
                     double wall_seconds) {
  NamedTensors out;
  append(out, "model.", trainer.model().state_dict());
  append(out, "optim.", trainer.optimizer().state_view());  // views: written from the live tensors, no copy
  if (trainer.ema()) append(out, "ema.", trainer.ema()->state_view());
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
  return checkpoint_info_from_metadata(load_safetensors(path).metadata, path);
}

CheckpointInfo load_checkpoint(const std::string& path, FlowModel<float>& model, Trainer<float>* trainer) {
  const NamedTensors file = load_safetensors(path);
  CheckpointInfo info = checkpoint_info_from_metadata(file.metadata, path);
  try {
    model.load_state_dict(with_prefix(file, "model."));
    if (trainer) {
      trainer->optimizer().load_state_dict(with_prefix(file, "optim."));
      if (trainer->ema()) trainer->ema()->load_state_dict(with_prefix(file, "ema."));
      trainer->load_state_dict(with_prefix(file, "trainer."));  // empty in older checkpoints
      trainer->rng().set_state_string(info.rng_state);
    }
  } catch (const std::exception& e) {
    // The message may quote tensor names from the file: escaped before it reaches a terminal.
    throw std::runtime_error("checkpoint '" + printable(path, 200) + "' does not match this model: " +
                             printable(e.what(), 400));
  }
  return info;
}

}  // namespace fz::cli
