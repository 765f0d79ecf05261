// tests/cli/cli_helpers.hpp — the small helpers the CLI test files share: fresh per-process
// temporary paths, running the real binary through the shell (exit status, stdout, stderr),
// reading files back (whole, by line, as JSON), counting lines, and the tiny toy RealNVP
// training request the CLI tests train on. Starting a child the test can signal is in
// cli_process.hpp.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"

namespace fz::test {

// <tmp>/fz_<prefix>_<pid>_<name>, removed first. Each test file passes its own prefix, so two
// files never share a folder and parallel test processes never see each other's files.
inline std::string fresh_temp_path(const std::string& prefix, const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("fz_" + prefix + "_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(p);
  return p.string();
}

// The whole file, byte for byte ("" when it cannot be opened).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The file's lines without their newlines (none when it cannot be opened).
inline std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  nlohmann::json j;
  in >> j;
  return j;
}

// Newline characters in s: the number of lines of a message that ends each line with '\n'.
inline std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// How many of `lines` contain `what`.
inline std::size_t count_containing(const std::vector<std::string>& lines, const std::string& what) {
  std::size_t n = 0;
  for (const std::string& l : lines) n += l.find(what) != std::string::npos;
  return n;
}

struct BinaryRun {
  int status;  // the exit code; -1 when the shell did not exit normally
  std::string out, err;
};

// Runs `(<before> FLOWZOO_BIN <args>)` through std::system with stdout and stderr in the files
// `scratch`.out and `scratch`.err, which are read back and removed. `before` is shell words put
// ahead of the binary: environment assignments, "ulimit -v N;", "timeout 60".
inline BinaryRun run_flowzoo(const std::string& args, const std::string& scratch, const std::string& before = "") {
  const std::string out_file = scratch + ".out", err_file = scratch + ".err";
  const std::string cmd = "(" + before + " " + FLOWZOO_BIN + " " + args + ") >" + out_file + " 2>" + err_file;
  const int raw = std::system(cmd.c_str());
  BinaryRun r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out_file), slurp(err_file)};
  std::filesystem::remove(out_file);
  std::filesystem::remove(err_file);
  return r;
}

// A flag refused as a bad flag: exit 2, one line on stderr naming `message`, and no checkpoint
// written into the run folder `out`.
inline void check_flag_refused(const BinaryRun& r, const std::string& message, const std::string& out) {
  CHECK(r.status == 2);
  CHECK(r.err.find(message) != std::string::npos);
  CHECK(count_lines(r.err) == 1);
  CHECK(!std::filesystem::exists(out + "/checkpoint.safetensors"));
}

// The toy RealNVP the CLI tests train in-process: moons, 2 couplings, hidden 8, batch 32, one
// thread, no periodic evaluation or samples, quiet. Files differ only in steps and seed.
inline fz::cli::TrainRequest toy_request(const std::string& out, std::size_t steps, std::uint64_t seed) {
  fz::cli::TrainRequest r;
  r.config.model.model = "realnvp";
  r.config.dataset = "toy";
  r.config.density = "moons";
  r.config.model.couplings = 2;
  r.config.model.hidden = 8;
  r.config.batch = 32;
  r.config.steps = steps;
  r.config.seed = seed;
  r.config.threads = 1;
  r.config.eval_every = 0;
  r.config.sample_every = 0;
  r.out_dir = out;
  r.quiet = true;
  return r;
}

// A small Glow on Fashion-MNIST trained in-process: L `levels`, K `steps_per_level`, conditioner
// width `hidden`, one thread, no periodic evaluation or samples, quiet. Callers set the rest
// (batch, seed, evaluation sizes) where they need other than the defaults.
inline fz::cli::TrainRequest tiny_glow_request(const std::string& out, std::size_t steps, std::size_t levels,
                                               std::size_t steps_per_level, std::size_t hidden) {
  fz::cli::TrainRequest r;
  r.config.model.model = "glow";
  r.config.model.levels = levels;
  r.config.model.steps_per_level = steps_per_level;
  r.config.model.hidden = hidden;
  r.config.steps = steps;
  r.config.threads = 1;
  r.config.eval_every = 0;
  r.config.sample_every = 0;
  r.out_dir = out;
  r.quiet = true;
  return r;
}

}  // namespace fz::test
