// cli/run_config.cpp — RunConfig validation and JSON round trip.
#include "cli/run_config.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace fz::cli {

namespace {

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
  auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  static const char* kDatasets[] = {"fashion-mnist", "mnist", "cifar10", "folder", "toy"};
  bool known = false;
  for (const char* d : kDatasets) known = known || dataset == d;
  if (!known) bad("unknown dataset '" + dataset + "' (fashion-mnist, mnist, cifar10, folder, toy)");
  if (dataset == "folder" && data_dir.empty()) bad("--dataset folder needs --data-dir");
  if (batch == 0 || batch > 65536) bad("--batch must be between 1 and 65536, got " + std::to_string(batch));
  if (!(train.lr > 0) || !std::isfinite(train.lr) || train.lr > 10) bad("--lr must be in (0, 10]");
  if (epochs < 0 || !std::isfinite(epochs)) bad("--epochs must be non-negative");
  if (minutes < 0 || !std::isfinite(minutes)) bad("--minutes must be non-negative");
  if (steps == 0 && epochs == 0 && minutes == 0) bad("give a length: --steps, --epochs or --minutes");
  if (threads < 0 || threads > 1024) bad("--threads must be between 0 (all cores) and 1024");
  if (train.clip_grad_norm < 0) bad("--clip must be non-negative");
  if (train.polyak_decay < 0 || train.polyak_decay >= 1) bad("--polyak must be in [0, 1)");
  if (checkpoint_seconds <= 0) bad("checkpoint interval must be positive");
  if (!(max_megapixels > 0) || !std::isfinite(max_megapixels) || max_megapixels > 10000)
    bad("--max-megapixels must be in (0, 10000]");
}

nlohmann::json to_json(const RunConfig& c) {
  nlohmann::json m = {{"model", c.model.model},       {"event_shape", c.model.event_shape},
                      {"levels", c.model.levels},     {"steps_per_level", c.model.steps_per_level},
                      {"hidden", c.model.hidden},     {"blocks", c.model.blocks},
                      {"couplings", c.model.couplings}, {"affine", c.model.affine},
                      {"lu", c.model.lu},             {"learn_top", c.model.learn_top},
                      {"weight_norm", c.model.weight_norm}};
  nlohmann::json t = {{"optimizer", c.train.optimizer},     {"lr", c.train.lr},
                      {"warmup_steps", c.train.warmup_steps}, {"clip_grad_norm", c.train.clip_grad_norm},
                      {"polyak_decay", c.train.polyak_decay}, {"weight_decay", c.train.weight_decay},
                      {"bits", c.train.bits}};
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
          {"checkpoint_seconds", c.checkpoint_seconds}};
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
    const auto& t = j.at("training");
    c.train.optimizer = t.at("optimizer").get<std::string>();
    c.train.lr = t.at("lr").get<double>();
    c.train.warmup_steps = t.at("warmup_steps").get<std::size_t>();
    c.train.clip_grad_norm = t.at("clip_grad_norm").get<double>();
    c.train.polyak_decay = t.at("polyak_decay").get<double>();
    c.train.weight_decay = t.at("weight_decay").get<double>();
    c.train.bits = t.at("bits").get<int>();
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
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("run configuration is incomplete or malformed: ") + e.what());
  }
  return c;
}

void write_config(const std::string& path, const RunConfig& c) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw std::runtime_error("cannot write '" + tmp + "'");
    out << to_json(c).dump(2) << "\n";
    if (!out) throw std::runtime_error("write to '" + tmp + "' failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "'");
}

RunConfig read_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open run configuration '" + path + "'");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("run configuration '" + path + "' is not valid JSON: " + e.what());
  }
  try {
    return run_config_from_json(j);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("'" + path + "': " + e.what());
  }
}

}  // namespace fz::cli
