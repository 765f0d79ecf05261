// tests/cli/test_bad_files.cpp — bad files given to the real binary: a directory, FIFO or
// device as --checkpoint, checkpoints with corrupt metadata or flipped bits, checkpoints from
// before the checksum, a non-finite evaluation, and images over the pixel budget. Each must
// give exit 1 and one line on stderr naming the file and what is wrong, never hang, and never
// show a library's exception text or the file's raw bytes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stb_image_write.h>

#include "cli/commands.hpp"
#include "cli_helpers.hpp"
#include "tensor/safetensors.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return fz::test::fresh_temp_path("badfiles", name); }

using Run = fz::test::BinaryRun;
// Runs the binary under timeout(1): a command that hangs (a FIFO) fails with 124 instead of
// hanging the test suite.
Run run_binary(const std::string& args) { return fz::test::run_flowzoo(args, temp_dir("io"), "timeout 60"); }

using fz::test::count_lines;
using fz::test::slurp;

// Exit 1, one "flowzoo: " line containing every fragment, no library text, no raw control bytes.
void require_clear_error(const Run& r, const std::vector<std::string>& fragments) {
  INFO("stderr: " << r.err);
  CHECK(r.status == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.rfind("flowzoo: ", 0) == 0);
  for (const auto& f : fragments) {
    INFO("expected fragment: " << f);
    CHECK(r.err.find(f) != std::string::npos);
  }
  for (const char* library : {"stoull", "stod", "map::at", "json.exception", "basic_string"}) {
    INFO("library text: " << library);
    CHECK(r.err.find(library) == std::string::npos);
  }
  for (char c : r.err.substr(0, r.err.size() - 1)) CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
}

// A trained 2-D run (a few steps of a tiny RealNVP), shared by the tests of one process.
const std::string& toy_checkpoint() {
  static const std::string path = [] {
    const std::string out = temp_dir("toy");
    REQUIRE(run_train(fz::test::toy_request(out, 3, 5)) == kExitOk);
    return out + "/checkpoint.safetensors";
  }();
  return path;
}

// A copy of the toy checkpoint with `edit` applied to its tensors and metadata (saved with a
// fresh, valid checksum: the damage is only what `edit` did).
template <typename Edit>
std::string edited_checkpoint(const std::string& name, Edit edit) {
  NamedTensors t = load_safetensors(toy_checkpoint());
  edit(t);
  const std::string path = temp_dir(name + ".safetensors");
  save_safetensors(path, t);
  return path;
}

// What a writer from before the checksum wrote: the same layout without the data_crc32 key.
void save_without_checksum(const std::string& path, const NamedTensors& t) {
  nlohmann::ordered_json header;
  header["__metadata__"] = t.metadata;
  std::uint64_t offset = 0;
  std::string data;
  for (const auto& [name, tensor] : t.f32) {
    header[name] = {{"dtype", "F32"}, {"shape", tensor.shape()}, {"data_offsets", {offset, offset + tensor.nbytes()}}};
    data.append(reinterpret_cast<const char*>(tensor.data()), tensor.nbytes());
    offset += tensor.nbytes();
  }
  REQUIRE(t.f64.empty());
  std::string text = header.dump();
  while (text.size() % 8) text.push_back(' ');
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i) len[static_cast<std::size_t>(i)] = static_cast<char>(text.size() >> (8 * i));
  std::ofstream(path, std::ios::binary) << len << text << data;
}

}  // namespace

TEST_CASE("bad files: a directory, FIFO or device as --checkpoint is named, never read or waited on",
          "[cli][bad_files]") {
  const std::string dir = temp_dir("ckpt_dir");
  fs::create_directories(dir);
  const std::string fifo = temp_dir("ckpt_fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  const std::string out = temp_dir("outs");
  struct Kind {
    std::string path, what;
  };
  for (const Kind& k : {Kind{dir, "is a directory"}, Kind{fifo, "is a FIFO"}, Kind{"/dev/null", "is a character device"}}) {
    for (const std::string& cmd : {"eval --checkpoint " + k.path, "sample --out " + out + "/s.png --checkpoint " + k.path,
                                   "density --out " + out + "/d.png --checkpoint " + k.path,
                                   "inspect --checkpoint " + k.path, "latents --out " + out + " --checkpoint " + k.path}) {
      INFO(cmd);
      require_clear_error(run_binary(cmd), {k.path, k.what});
    }
  }
  // train --resume reads <out>/checkpoint.safetensors: the same checks.
  const std::string run = temp_dir("resume_fifo");
  fs::create_directories(run);
  REQUIRE(::mkfifo((run + "/checkpoint.safetensors").c_str(), 0644) == 0);
  require_clear_error(run_binary("train --dataset toy --steps 2 --resume --out " + run), {"checkpoint.safetensors", "is a FIFO"});
  fs::remove_all(run);
  fs::create_directories(run + "/checkpoint.safetensors");
  require_clear_error(run_binary("train --dataset toy --steps 2 --resume --out " + run), {"is a directory"});
  fs::remove_all(run);
  fs::remove_all(dir);
  fs::remove(fifo);
  fs::remove_all(out);
}

TEST_CASE("bad files: each invalid metadata entry gets a sentence naming the field", "[cli][bad_files]") {
  struct Case {
    const char* name;
    const char* key;
    std::string value;  // empty: remove the entry
    std::vector<std::string> fragments;
  };
  nlohmann::json config = nlohmann::json::parse(load_safetensors(toy_checkpoint()).metadata.at("flowzoo.config"));
  nlohmann::json v2 = config, no_hidden = config, bad_type = config, negative = config;
  v2["flowzoo_config_version"] = 2;
  no_hidden["model"].erase("hidden");
  bad_type["model"]["hidden"] = "wide";
  negative["batch"] = -64;
  const std::vector<Case> cases = {
      {"step_negative", "flowzoo.step", "-5", {"flowzoo.step is '-5', not a step count"}},
      {"step_text", "flowzoo.step", "five", {"flowzoo.step is 'five'"}},
      {"step_huge", "flowzoo.step", "99999999999999999999", {"flowzoo.step", "not a step count"}},
      {"wall_nan", "flowzoo.wall_seconds", "nan", {"flowzoo.wall_seconds is 'nan', not a number of seconds"}},
      {"no_rng", "flowzoo.rng", "", {"no flowzoo.rng entry"}},
      {"bad_rng", "flowzoo.rng", "0 0 0 0 0 0", {"flowzoo.rng", "not a random generator state"}},
      {"no_config", "flowzoo.config", "", {"not a flowzoo checkpoint", "no flowzoo.config entry"}},
      {"config_not_json", "flowzoo.config", "{\"model\": [", {"flowzoo.config is not valid JSON"}},
      {"version", "flowzoo.config", v2.dump(), {"format version 2", "reads version 1"}},
      {"missing_field", "flowzoo.config", no_hidden.dump(), {"no field 'model.hidden'"}},
      {"wrong_type", "flowzoo.config", bad_type.dump(), {"field 'model.hidden' is string"}},
      {"negative_batch", "flowzoo.config", negative.dump(), {"field 'batch'", "whole number >= 0"}},
      {"escape_bytes", "flowzoo.step", "\x1b[2J\x07", {"flowzoo.step is '\\x1b[2J\\x07'"}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string path = edited_checkpoint(c.name, [&](NamedTensors& t) {
      if (c.value.empty())
        t.metadata.erase(c.key);
      else
        t.metadata[c.key] = c.value;
    });
    std::vector<std::string> fragments = c.fragments;
    fragments.push_back(path);
    require_clear_error(run_binary("eval --checkpoint " + path), fragments);
    fs::remove(path);
  }
  // The same through train --resume.
  const std::string run = temp_dir("resume_meta");
  fs::create_directories(run);
  const std::string bad = edited_checkpoint("resume_step", [](NamedTensors& t) { t.metadata["flowzoo.step"] = "-5"; });
  fs::rename(bad, run + "/checkpoint.safetensors");
  require_clear_error(run_binary("train --dataset toy --steps 2 --resume --out " + run), {"flowzoo.step is '-5'"});
  fs::remove_all(run);
}

TEST_CASE("bad files: a flipped bit in the tensors is a checksum error; old checkpoints without one load",
          "[cli][bad_files]") {
  std::string bytes = slurp(toy_checkpoint());
  std::uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const std::string flipped = temp_dir("flipped.safetensors");
  bytes[8 + header_len + 100] = static_cast<char>(bytes[8 + header_len + 100] ^ 0x10);
  std::ofstream(flipped, std::ios::binary) << bytes;
  for (const std::string& cmd : {"eval --checkpoint " + flipped, "sample --out /tmp/unused.png --checkpoint " + flipped}) {
    INFO(cmd);
    require_clear_error(run_binary(cmd), {flipped, "checksum mismatch", "the file is corrupt"});
  }
  fs::remove(flipped);

  const std::string old = temp_dir("old.safetensors");
  save_without_checksum(old, load_safetensors(toy_checkpoint()));
  REQUIRE(slurp(old).find("data_crc32") == std::string::npos);
  const Run r = run_binary("eval --limit 200 --checkpoint " + old);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out.find("NLL") != std::string::npos);
  fs::remove(old);
}

TEST_CASE("bad files: eval exits 1 when the NLL it computes is not finite, still printing it", "[cli][bad_files]") {
  const std::string path = edited_checkpoint("nan_params", [](NamedTensors& t) {
    for (auto& [name, tensor] : t.f32)
      if (name.rfind("model.", 0) == 0)
        for (std::size_t i = 0; i < tensor.numel(); ++i) tensor.data()[i] = std::numeric_limits<float>::quiet_NaN();
  });
  const Run r = run_binary("eval --limit 200 --json --checkpoint " + path);
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("NLL is nan, not a finite number") != std::string::npos);
  CHECK(r.out.find("\"nll_nats\":null") != std::string::npos);  // what it computed, as JSON
  fs::remove(path);
}

TEST_CASE("bad files: train refuses folder images over --max-megapixels; the flag is range-checked",
          "[cli][bad_files]") {
  const std::string data = temp_dir("big_images");
  fs::create_directories(data);
  std::vector<unsigned char> px(40 * 30, 128);
  REQUIRE(stbi_write_png((data + "/a.png").c_str(), 40, 30, 1, px.data(), 40) != 0);
  const std::string out = temp_dir("big_out");
  // 40 x 30 = 1200 pixels against a budget of 1000.
  require_clear_error(run_binary("train --dataset folder --data-dir " + data + " --channels 1 --image-size 8 --steps 1 "
                                 "--batch 1 --max-megapixels 0.001 --out " + out),
                      {data + "/a.png", "40x30 pixels", "above the budget of 0.0", "--max-megapixels"});
  const Run zero = run_binary("train --dataset folder --data-dir " + data + " --max-megapixels 0 --out " + out);
  CHECK(zero.status == 2);
  CHECK(count_lines(zero.err) == 1);
  fs::remove_all(data);
  fs::remove_all(out);
}

TEST_CASE("bad files: checkpoint temporaries are per process; a stale fixed-name one does not block saving",
          "[cli][bad_files]") {
  const std::string out = temp_dir("tmpname");
  // An older flowzoo's temporary name, left as a directory: writing to it would fail.
  fs::create_directories(out + "/checkpoint.safetensors.tmp");
  const Run r = run_binary("train --dataset toy --model realnvp --couplings 2 --hidden 8 --batch 16 --steps 2 "
                           "--threads 1 --eval-every 0 --sample-every 0 --quiet --out " + out);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(fs::is_regular_file(out + "/checkpoint.safetensors"));
  for (const auto& e : fs::directory_iterator(out))
    CHECK(e.path().filename().string().rfind("checkpoint.safetensors.tmp.", 0) != 0);  // renamed away
  fs::remove_all(out);
}
