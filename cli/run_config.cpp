// cli/run_config.cpp — RunConfig validation and JSON round trip.
#include "cli/run_config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "flows/memory_saving.hpp"
#include "flows/presets.hpp"
#include "tensor/atomic_file.hpp"

namespace fz::cli {

namespace {

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

template <typename N>
void whole_in(N value, std::uint64_t lo, std::uint64_t hi, const char* flag) {
  if constexpr (std::is_signed_v<N>)
    if (value < 0) bad(std::string(flag) + " must be a whole number from " + std::to_string(lo) + " to " +
                       std::to_string(hi) + ", got " + std::to_string(value));
  if (static_cast<std::uint64_t>(value) < lo || static_cast<std::uint64_t>(value) > hi)
    bad(std::string(flag) + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
        ", got " + std::to_string(value));
}

void real_in(double value, double lo, double hi, bool open_lo, bool open_hi, const char* flag) {
  const bool ok = std::isfinite(value) && (open_lo ? value > lo : value >= lo) && (open_hi ? value < hi : value <= hi);
  if (ok) return;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s must be a number in %s%g, %g%s, got %g", flag, open_lo ? "(" : "[", lo, hi,
                open_hi ? ")" : "]", value);
  bad(buf);
}

// One field of a configuration read from a file (a checkpoint's metadata, config.json). at()
// reports a missing key and get<T>() a wrong type as a sentence naming the field by its dotted
// path ("model.hidden"); nlohmann's exception text and the file's raw bytes never reach the
// user. The JSON it points into must outlive it.
class ConfigField {
 public:
  ConfigField(const nlohmann::json& value, std::string path) : value_(value), path_(std::move(path)) {}

  bool has(const char* key) const { return value_.is_object() && value_.contains(key); }

  ConfigField at(const char* key) const {
    const std::string child = path_.empty() ? key : path_ + "." + key;
    if (!value_.is_object()) throw std::invalid_argument("the run configuration's '" + path_ + "' is not an object");
    auto it = value_.find(key);
    if (it == value_.end()) throw std::invalid_argument("the run configuration has no field '" + child + "'");
    return ConfigField(*it, child);
  }

  template <typename T>
  T get() const {
    if constexpr (std::is_same_v<T, bool>) {
      if (!value_.is_boolean()) wrong("true or false");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!value_.is_string()) wrong("a string");
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      if (!value_.is_number_unsigned()) wrong("a whole number >= 0");
      if (value_.get<std::uint64_t>() > std::numeric_limits<T>::max()) wrong("a smaller whole number");
    } else if constexpr (std::is_integral_v<T>) {
      if (!value_.is_number_integer()) wrong("a whole number");
      constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
      const std::int64_t v = value_.is_number_unsigned() && value_.get<std::uint64_t>() > std::uint64_t(kMax)
                                 ? kMax : value_.get<std::int64_t>();
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) wrong("a smaller whole number");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!value_.is_number()) wrong("a number");
    } else {  // Shape
      if (!value_.is_array()) wrong("a list of sizes");
      for (const auto& d : value_)
        if (!d.is_number_unsigned()) wrong("a list of whole numbers >= 0");
    }
    return value_.get<T>();
  }

 private:
  [[noreturn]] void wrong(const char* expected) const {
    throw std::invalid_argument("the run configuration's field '" + path_ + "' is " + std::string(value_.type_name()) +
                                " where " + expected + " is expected");
  }

  const nlohmann::json& value_;
  std::string path_;
};

}  // namespace

void RunConfig::validate() const {
  static const char* kDatasets[] = {"fashion-mnist", "mnist", "cifar10", "folder", "toy"};
  bool known = false;
  for (const char* d : kDatasets) known = known || dataset == d;
  if (!known) bad("unknown dataset '" + dataset + "' (fashion-mnist, mnist, cifar10, folder, toy)");
  if (dataset == "folder" && data_dir.empty()) bad("--dataset folder needs --data-dir");
  if (model.model != "nice" && model.model != "realnvp" && model.model != "glow" && model.model != "nsf" &&
      model.model != "maf" && model.model != "resflow" &&
      model.model != "ffjord" && model.model != "flowpp")
    bad("unknown model '" + model.model + "' (nice, realnvp, glow, nsf, maf, resflow, ffjord, flowpp)");
  // A configuration read from a file holds the resolved transformer: it must be one the model takes.
  if (!model.transformer.empty()) {
    const std::string refusal = transformer_refusal(model.model, model.transformer);
    if (!refusal.empty()) bad("transformer '" + model.transformer + "': " + refusal);
  }
  if (train.optimizer != "adam" && train.optimizer != "adamax" && train.optimizer != "adamw" &&
      train.optimizer != "sgd")
    bad("unknown optimizer '" + train.optimizer + "' (adam, adamax, adamw, sgd)");
  // The sizes of the model: every field that sizes an allocation is bounded here, whether it
  // came from a flag or from a checkpoint's configuration (cli/memory_guard.hpp then checks
  // the whole against the machine).
  whole_in(model.levels, 1, RunLimits::kMaxLevels, "--levels");
  whole_in(model.steps_per_level, 1, RunLimits::kMaxStepsPerLevel, "--steps-per-level");
  whole_in(model.hidden, 0, RunLimits::kMaxHidden, "--hidden");
  whole_in(model.blocks, 0, RunLimits::kMaxBlocks, "--blocks");
  whole_in(model.couplings, 0, RunLimits::kMaxCouplings, "--couplings");
  whole_in(model.bins, 2, RunLimits::kMaxBins, "--bins");
  real_in(model.tail_bound, 0, RunLimits::kMaxTailBound, true, false, "--tail-bound");
  whole_in(model.mixtures, 1, RunLimits::kMaxMixtures, "--mixtures");
  whole_in(model.attention_heads, 0, RunLimits::kMaxAttentionHeads, "--attention-heads");
  if (model.ode_solver != "rk4" && model.ode_solver != "dopri5")
    bad("unknown --ode-solver '" + model.ode_solver + "' (rk4, dopri5)");
  whole_in(model.ode_steps, 1, RunLimits::kMaxOdeSteps, "--ode-steps");
  real_in(model.ode_rtol, 0, 1, true, true, "--ode-rtol");
  real_in(model.ode_atol, 0, 1, true, true, "--ode-atol");
  whole_in(model.classes, 0, RunLimits::kMaxClasses, "the class count (train --conditional)");
  if (model.classes == 1) bad("a class-conditional run needs at least 2 classes, got 1");
  if (model.classes && dataset == "toy") bad("--conditional needs an image dataset with labels, not 2-D toy data");
  if (model.event_shape.size() != 1 && model.event_shape.size() != 3)
    bad("the model's data shape must be (C, H, W) or (D), got " + shape_str(model.event_shape));
  for (std::size_t d : model.event_shape) whole_in(d, 1, RunLimits::kMaxImageSize, "each data dimension");
  whole_in(image_size, 0, RunLimits::kMaxImageSize, "--image-size");
  if (channels != 0 && channels != 1 && channels != 3) bad("--channels must be 1 or 3, got " + std::to_string(channels));
  whole_in(batch, 1, RunLimits::kMaxBatch, "--batch");
  // The run's length and rhythm.
  whole_in(steps, 0, RunLimits::kMaxSteps, "--steps");
  real_in(epochs, 0, RunLimits::kMaxEpochs, false, false, "--epochs");
  real_in(minutes, 0, RunLimits::kMaxMinutes, false, false, "--minutes");
  if (steps == 0 && epochs == 0 && minutes == 0) bad("give a length: --steps, --epochs or --minutes");
  whole_in(threads, 0, RunLimits::kMaxThreads, "--threads");
  whole_in(eval_every, 0, RunLimits::kMaxSteps, "--eval-every");
  whole_in(eval_limit, 0, RunLimits::kMaxSteps, "--eval-limit");
  whole_in(final_eval_limit, 0, RunLimits::kMaxSteps, "--final-eval-limit");
  whole_in(sample_every, 0, RunLimits::kMaxSteps, "--sample-every");
  real_in(checkpoint_seconds, 0, RunLimits::kMaxCheckpointSeconds, true, false, "--checkpoint-seconds");
  // Optimisation.
  real_in(train.lr, 0, RunLimits::kMaxLr, true, false, "--lr");
  whole_in(train.warmup_steps, 0, RunLimits::kMaxSteps, "--warmup");
  real_in(train.clip_grad_norm, 0, RunLimits::kMaxClip, false, false, "--clip");
  if (train.schedule != "constant" && train.schedule != "cosine" && train.schedule != "step")
    bad("unknown --schedule '" + train.schedule + "' (constant, cosine, step)");
  whole_in(train.schedule_steps, 0, RunLimits::kMaxSteps, "--schedule-steps");
  real_in(train.lr_min, 0, RunLimits::kMaxLr, false, false, "--lr-min");
  whole_in(train.schedule_step_every, 1, RunLimits::kMaxSteps, "--schedule-step-every");
  real_in(train.schedule_gamma, 0, 1, true, false, "--schedule-gamma");
  real_in(train.polyak_decay, 0, 1, false, true, "--polyak");
  real_in(train.weight_decay, 0, RunLimits::kMaxLr, false, false, "weight decay");
  whole_in(train.bits, 1, 8, "--bits");
  if (!parse_memory_saving(train.memory_saving))
    bad("unknown --memory-saving '" + train.memory_saving + "' (none, checkpoint, invertible)");
  // The residual flow's training log-det is a random estimate: a recomputation draws new probes,
  // so the recomputed gradients would not be the ones of the forward's loss.
  if (train.memory_saving != "none" && model.model == "resflow")
    bad("--memory-saving " + train.memory_saving + " cannot be used with resflow (its training log-det is random)");
  real_in(max_megapixels, 0, 10000, true, false, "--max-megapixels");
  train.divergence.validate();
  if (dequantization != "uniform" && dequantization != "variational")
    bad("unknown --dequantization '" + dequantization + "' (uniform, variational)");
  whole_in(dequant_hidden, 1, RunLimits::kMaxDequantHidden, "--dequant-hidden");
  if (variational_dequantization() && model.classes)
    bad("--conditional with --dequantization variational is not available: the class-conditional scores (eval's "
        "Bayes accuracy) dequantize uniformly");
  if (variational_dequantization() && is_toy())
    bad("--dequantization variational needs an image dataset (2-D toy data is continuous: nothing to dequantize)");
}

TrainingRecipe default_training_recipe(const std::string& model, const std::string& dataset) {
  // Toy data: lr 1e-3, no warmup, no clip for every family. nsf and maf were measured with it
  // (two moons, 2000 steps, batch 512: test NLL nsf 0.328, maf affine 0.334, maf spline 0.326,
  // realnvp 0.357), so they share it; on images nsf is glow's skeleton and takes its recipe.
  TrainingRecipe r;
  if (dataset != "toy") {
    // Measured on Fashion-MNIST for glow, realnvp and nice alike (see run_config.hpp).
    r.lr = 1e-3;
    r.warmup_steps = 200;
    r.clip_grad_norm = 50.0;
  }
  // resflow (2-D only): its Lipschitz-bounded blocks move slowly at 1e-3 (two moons, 32 blocks
  // of 32, 400 steps: test NLL 0.49 at 5e-3, 0.47 at 1e-2; 8 blocks of 128 did not leave the
  // Gaussian fit, 1.89, at 1e-3 or 5e-3).
  if (model == "resflow") r.lr = 5e-3;
  return r;
}

void apply_training_recipe(RunConfig& c, bool lr_given, bool warmup_given, bool clip_given) {
  const TrainingRecipe r = default_training_recipe(c.model.model, c.dataset);
  if (!lr_given) c.train.lr = r.lr;
  if (!warmup_given) c.train.warmup_steps = r.warmup_steps;
  if (!clip_given) c.train.clip_grad_norm = r.clip_grad_norm;
}

nlohmann::json to_json(const RunConfig& c) {
  nlohmann::json m = {{"model", c.model.model},       {"event_shape", c.model.event_shape},
                      {"levels", c.model.levels},     {"steps_per_level", c.model.steps_per_level},
                      {"hidden", c.model.hidden},     {"blocks", c.model.blocks},
                      {"couplings", c.model.couplings}, {"affine", c.model.affine},
                      {"lu", c.model.lu},             {"learn_top", c.model.learn_top},
                      {"weight_norm", c.model.weight_norm},
                      {"transformer", c.model.transformer}, {"bins", c.model.bins},
                      {"tail_bound", c.model.tail_bound}, {"mixtures", c.model.mixtures},
                      {"attention_heads", c.model.attention_heads},
                      {"ode_solver", c.model.ode_solver}, {"ode_steps", c.model.ode_steps},
                      {"ode_rtol", c.model.ode_rtol}, {"ode_atol", c.model.ode_atol},
                      {"classes", c.model.classes}};
  nlohmann::json t = {{"optimizer", c.train.optimizer},     {"lr", c.train.lr},
                      {"warmup_steps", c.train.warmup_steps}, {"clip_grad_norm", c.train.clip_grad_norm},
                      {"polyak_decay", c.train.polyak_decay}, {"weight_decay", c.train.weight_decay},
                      {"bits", c.train.bits},
                      {"memory_saving", c.train.memory_saving}};
  t["schedule"] = {{"kind", c.train.schedule},         {"steps", c.train.schedule_steps},
                   {"lr_min", c.train.lr_min},         {"step_every", c.train.schedule_step_every},
                   {"gamma", c.train.schedule_gamma}};
  const DivergenceOptions& d = c.train.divergence;
  t["on_divergence"] = to_string(d.policy);
  t["divergence"] = {{"spike_window", d.spike_window},     {"spike_min_history", d.spike_min_history},
                     {"spike_mads", d.spike_mads},
                     {"spike_floor", d.spike_floor},       {"snapshot_every", d.snapshot_every},
                     {"lr_factor", d.lr_factor},           {"max_recoveries", d.max_recoveries},
                     {"recovery_window", d.recovery_window}};
  return {{"flowzoo_config_version", 1},
          {"model", m},
          {"training", t},
          {"dataset", c.dataset},
          {"data_dir", c.data_dir},
          {"density", c.density},
          {"image_size", c.image_size},
          {"channels", c.channels},
          {"max_megapixels", c.max_megapixels},
          {"batch", c.batch},
          {"steps", c.steps},
          {"epochs", c.epochs},
          {"minutes", c.minutes},
          {"seed", c.seed},
          {"threads", c.threads},
          {"eval_every", c.eval_every},
          {"eval_limit", c.eval_limit},
          {"final_eval_limit", c.final_eval_limit},
          {"sample_every", c.sample_every},
          {"checkpoint_seconds", c.checkpoint_seconds},
          {"dequantization", {{"kind", c.dequantization}, {"hidden", c.dequant_hidden}}}};
}

RunConfig run_config_from_json(const nlohmann::json& root) {
  RunConfig c;
  const ConfigField j(root, "");
  if (!root.is_object()) throw std::invalid_argument("the run configuration is not a JSON object");
  const int version = j.at("flowzoo_config_version").get<int>();
  if (version != 1)
    throw std::invalid_argument("the run configuration has format version " + std::to_string(version) +
                                "; this flowzoo reads version 1 (written by a different flowzoo?)");
  try {
    const auto& m = j.at("model");
    c.model.model = m.at("model").get<std::string>();
    c.model.event_shape = m.at("event_shape").get<Shape>();
    c.model.levels = m.at("levels").get<std::size_t>();
    c.model.steps_per_level = m.at("steps_per_level").get<std::size_t>();
    c.model.hidden = m.at("hidden").get<std::size_t>();
    c.model.blocks = m.at("blocks").get<std::size_t>();
    c.model.couplings = m.at("couplings").get<std::size_t>();
    c.model.affine = m.at("affine").get<bool>();
    c.model.lu = m.at("lu").get<bool>();
    c.model.learn_top = m.at("learn_top").get<bool>();
    c.model.weight_norm = m.at("weight_norm").get<bool>();
    // Optional (added with the coupling transformers): absent in older runs' config.json, whose
    // transformer is then the family's own (resolve_preset) and the others their defaults.
    if (m.has("transformer")) c.model.transformer = m.at("transformer").get<std::string>();
    if (m.has("bins")) c.model.bins = m.at("bins").get<std::size_t>();
    if (m.has("tail_bound")) c.model.tail_bound = m.at("tail_bound").get<double>();
    if (m.has("mixtures")) c.model.mixtures = m.at("mixtures").get<std::size_t>();
    // Optional (added with flowpp): absent in older runs, which have no attention.
    if (m.has("attention_heads")) c.model.attention_heads = m.at("attention_heads").get<std::size_t>();
    // Optional (added with ffjord's ODE solver): absent in older runs, which have no ODE.
    if (m.has("ode_solver")) c.model.ode_solver = m.at("ode_solver").get<std::string>();
    if (m.has("ode_steps")) c.model.ode_steps = m.at("ode_steps").get<std::size_t>();
    if (m.has("ode_rtol")) c.model.ode_rtol = m.at("ode_rtol").get<double>();
    if (m.has("ode_atol")) c.model.ode_atol = m.at("ode_atol").get<double>();
    // Optional (added with train --conditional): absent in older runs, which are unconditional.
    if (m.has("classes")) c.model.classes = m.at("classes").get<std::size_t>();
    const auto& t = j.at("training");
    c.train.optimizer = t.at("optimizer").get<std::string>();
    c.train.lr = t.at("lr").get<double>();
    c.train.warmup_steps = t.at("warmup_steps").get<std::size_t>();
    c.train.clip_grad_norm = t.at("clip_grad_norm").get<double>();
    c.train.polyak_decay = t.at("polyak_decay").get<double>();
    c.train.weight_decay = t.at("weight_decay").get<double>();
    c.train.bits = t.at("bits").get<int>();
    // Optional (added with --memory-saving): absent in older runs, which stored everything.
    if (t.has("memory_saving")) c.train.memory_saving = t.at("memory_saving").get<std::string>();
    // Optional (added with --schedule): absent in older runs' config.json, whose rate was constant.
    if (t.has("schedule")) {
      const ConfigField g = t.at("schedule");
      if (g.has("kind")) c.train.schedule = g.at("kind").get<std::string>();
      if (g.has("steps")) c.train.schedule_steps = g.at("steps").get<std::size_t>();
      if (g.has("lr_min")) c.train.lr_min = g.at("lr_min").get<double>();
      if (g.has("step_every")) c.train.schedule_step_every = g.at("step_every").get<std::size_t>();
      if (g.has("gamma")) c.train.schedule_gamma = g.at("gamma").get<double>();
    }
    // Optional (added with divergence recovery): absent in older runs' config.json.
    DivergenceOptions& d = c.train.divergence;
    if (t.has("on_divergence")) d.policy = divergence_policy_from(t.at("on_divergence").get<std::string>());
    if (t.has("divergence")) {
      const ConfigField g = t.at("divergence");
      // Each entry optional, checked for its type like every other field.
      auto read = [&g](const char* key, auto& field) {
        if (g.has(key)) field = g.at(key).get<std::decay_t<decltype(field)>>();
      };
      read("spike_window", d.spike_window);
      read("spike_min_history", d.spike_min_history);
      read("spike_mads", d.spike_mads);
      read("spike_floor", d.spike_floor);
      read("snapshot_every", d.snapshot_every);
      read("lr_factor", d.lr_factor);
      read("max_recoveries", d.max_recoveries);
      read("recovery_window", d.recovery_window);
    }
    c.dataset = j.at("dataset").get<std::string>();
    c.data_dir = j.at("data_dir").get<std::string>();
    c.density = j.at("density").get<std::string>();
    c.image_size = j.at("image_size").get<std::size_t>();
    c.channels = j.at("channels").get<std::size_t>();
    if (j.has("max_megapixels")) c.max_megapixels = j.at("max_megapixels").get<double>();  // absent before it existed
    c.batch = j.at("batch").get<std::size_t>();
    c.steps = j.at("steps").get<std::size_t>();
    c.epochs = j.at("epochs").get<double>();
    c.minutes = j.at("minutes").get<double>();
    c.seed = j.at("seed").get<std::uint64_t>();
    c.threads = j.at("threads").get<int>();
    c.eval_every = j.at("eval_every").get<std::size_t>();
    c.eval_limit = j.at("eval_limit").get<std::size_t>();
    c.final_eval_limit = j.at("final_eval_limit").get<std::size_t>();
    c.sample_every = j.at("sample_every").get<std::size_t>();
    c.checkpoint_seconds = j.at("checkpoint_seconds").get<double>();
    // Optional (added with variational dequantization): absent in older runs, which were uniform.
    if (j.has("dequantization")) {
      const ConfigField q = j.at("dequantization");
      if (q.has("kind")) c.dequantization = q.at("kind").get<std::string>();
      if (q.has("hidden")) c.dequant_hidden = q.at("hidden").get<std::size_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("run configuration is incomplete or malformed: ") + e.what());
  }
  return c;
}

void write_config(const std::string& path, const RunConfig& c) {
  replace_file_atomically(path, to_json(c).dump(2) + "\n");
}

namespace {

// The fields a config.json may hold, by object ("" = the top level): what to_json writes.
// A key outside them is a typo or a file from another program, refused rather than ignored.
void check_known_fields(const nlohmann::json& object, const std::string& where) {
  if (!object.is_object()) return;  // run_config_from_json names the wrong type
  const nlohmann::json written = to_json(RunConfig{});
  const nlohmann::json& known = where.empty() ? written : written.at(nlohmann::json::json_pointer(where));
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string path = where.empty() ? it.key() : where.substr(1) + "." + it.key();
    std::string dotted = path;
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    if (!known.contains(it.key())) {
      std::string names;
      for (auto k = known.begin(); k != known.end(); ++k) names += (names.empty() ? "" : ", ") + k.key();
      throw std::invalid_argument("unknown field '" + dotted + "' (known here: " + names + ")");
    }
    if (it.value().is_object() && known.at(it.key()).is_object()) check_known_fields(it.value(), where + "/" + it.key());
  }
}

}  // namespace

RunConfig read_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open the run configuration '" + path + "'");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::parse_error& e) {  // its text quotes the file's bytes: not shown
    throw std::runtime_error("the run configuration '" + path + "' is not valid JSON (at byte " +
                             std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error("the run configuration '" + path + "' is not valid JSON");
  }
  try {
    check_known_fields(j, "");
    RunConfig c = run_config_from_json(j);
    c.validate();
    return c;
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("the run configuration '" + path + "': " + e.what());
  }
}

}  // namespace fz::cli
