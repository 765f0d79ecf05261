// cli/memory_guard.cpp — the machine's memory against a run's estimated need (see the header).
#include "cli/memory_guard.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <unistd.h>

#include "cli/flag_checks.hpp"
#include "flows/memory_estimate.hpp"

namespace fz::cli {

namespace {

// Copies of the parameters a run keeps besides the parameters themselves: the gradients,
// the optimiser's moments (Adam, Adamax, AdamW: two; SGD: its momentum), the Polyak averages.
double parameter_copies(const TrainerOptions& t, bool training) {
  const double moments = t.optimizer == "sgd" ? 1 : 2;
  const double averages = t.polyak_decay > 0 ? 1 : 0;
  return 1 + moments + averages + (training ? 1 : 0);
}

// "glow with hidden 128, 2 levels x 8 steps on 1x28x28 images"
std::string describe(const PresetConfig& m) {
  const bool images = m.event_shape.size() == 3;
  std::string s = m.model + " with hidden " + std::to_string(m.hidden);
  if (m.model == "glow" || m.model == "flowpp" || (m.model == "nsf" && images))  // nsf, flowpp: the Glow skeleton
    s += images ? ", " + std::to_string(m.levels) + " levels x " + std::to_string(m.steps_per_level) + " steps"
                : ", " + std::to_string(m.steps_per_level) + " steps, " + std::to_string(m.blocks) + " layers";
  else
    s += ", " + std::to_string(m.blocks) + (m.model == "nice" || !images ? " layers, " : " blocks, ") +
         std::to_string(m.couplings) + " couplings";
  if (m.model == "realnvp" && images) s += ", " + std::to_string(m.levels) + " scales";
  if (images)
    s += " on " + std::to_string(m.event_shape[0]) + "x" + std::to_string(m.event_shape[1]) + "x" +
         std::to_string(m.event_shape[2]) + " images";
  else
    s += " on " + std::to_string(m.event_shape.at(0)) + "-D points";
  return s;
}

std::string machine_text(double limit) {
  return "this machine has " + memory_text(limit) +
         (std::getenv(kMemoryLimitVariable) ? std::string(" (") + kMemoryLimitVariable + ")" : std::string());
}

}  // namespace

double machine_memory_bytes() {
  if (const char* env = std::getenv(kMemoryLimitVariable)) {
    std::string text = env;
    const std::string why = check_whole_number(text, 1, UINT64_MAX);
    if (!why.empty()) throw std::runtime_error("the environment variable " + std::string(kMemoryLimitVariable) + " " + why);
    return std::strtod(text.c_str(), nullptr);
  }
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return INFINITY;  // unknown: nothing to compare with
  return static_cast<double>(pages) * static_cast<double>(page);
}

std::string memory_text(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000 && u < 6) {
    bytes /= 1000;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, bytes < 10 && u > 0 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return buf;
}

Shape expected_event_shape(const RunConfig& c) {
  if (c.is_toy()) return {2};
  if (c.dataset == "cifar10") return {3, 32, 32};
  if (c.dataset == "folder") {
    const std::size_t size = c.image_size ? c.image_size : 32;
    return {c.channels ? c.channels : 3, size, size};
  }
  return {1, 28, 28};  // fashion-mnist, mnist
}

void check_training_memory(const RunConfig& config, const Shape& event_shape, const std::string& from_checkpoint) {
  PresetConfig model = config.model;
  model.event_shape = event_shape;
  model = resolve_preset(model);
  const MemoryEstimate e = estimate_memory(model, config.batch);
  const double params = e.parameter_bytes() * parameter_copies(config.train, true);
  const double activations = e.activation_bytes() + e.backward_extra_bytes();
  const double need = params + activations, limit = machine_memory_bytes();
  if (need <= limit) return;
  std::string msg = describe(model) + " needs about " + memory_text(need) + " to train at batch " +
                    std::to_string(config.batch) + " (activations " + memory_text(activations) +
                    ", parameters with gradients and optimiser state " + memory_text(params) + "); " +
                    machine_text(limit);
  if (!from_checkpoint.empty()) throw std::runtime_error("checkpoint '" + from_checkpoint + "': its run, " + msg);
  throw FlagError(msg + ": lower --batch or the model's size (--hidden, --blocks, --couplings, --levels, "
                        "--steps-per-level, --image-size)");
}

void check_inference_memory(const RunConfig& config, std::size_t batch, const std::string& checkpoint,
                            const std::string& batch_flag) {
  const PresetConfig model = resolve_preset(config.model);
  const MemoryEstimate e = estimate_memory(model, 1);
  const double params = e.parameter_bytes() * parameter_copies(config.train, false);
  const double limit = machine_memory_bytes();
  // The model alone first: when even one sample cannot pass, the checkpoint is at fault.
  const std::size_t first = batch_flag.empty() ? batch : 1;
  const double alone = params + e.inference_bytes(first);
  if (alone > limit)
    throw std::runtime_error("checkpoint '" + checkpoint + "': its model, " + describe(model) + ", needs about " +
                             memory_text(alone) + " to evaluate " + std::to_string(first) +
                             (first == 1 ? " sample" : " samples at once") + " (parameters and optimiser state " +
                             memory_text(params) + "); " + machine_text(limit));
  const double need = params + e.inference_bytes(batch);
  if (need > limit)
    throw FlagError(batch_flag + " evaluates " + std::to_string(batch) + " samples at once: with " + describe(model) +
                    " that needs about " + memory_text(need) + " (working set " +
                    memory_text(e.inference_bytes(batch)) + "); " + machine_text(limit) + ": lower it");
}

namespace {

template <typename Check>
void naming_checkpoint(const std::string& checkpoint, Check&& check) {
  try {
    check();
  } catch (const FlagError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("checkpoint '" + checkpoint + "' holds a configuration this build refuses: " + e.what());
  }
}

}  // namespace

void check_run_fits(const RunConfig& config, const std::string& checkpoint) {
  auto check = [&] {
    config.validate();
    check_training_memory(config, expected_event_shape(config), checkpoint);
  };
  if (checkpoint.empty()) as_flag_error(check);
  else naming_checkpoint(checkpoint, check);
}

void check_checkpoint_fits(const RunConfig& config, const std::string& checkpoint, std::size_t batch,
                           const std::string& batch_flag) {
  naming_checkpoint(checkpoint, [&] {
    config.validate();
    check_inference_memory(config, batch, checkpoint, batch_flag);
  });
}

}  // namespace fz::cli
