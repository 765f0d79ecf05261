// tests/cli/test_cli_conventions.cpp — the command line's conventions (issues 14 and 16), through
// the real binary: flags shared by several commands are declared once (same help everywhere),
// `train --config` reruns a run and `results.json` keeps its final evaluation, `--threads` on
// every command that computes, `--version`, the learning-rate schedules, a fully quiet
// `--quiet`, periodic evaluations on toy runs, the progress line fitted to the terminal's width,
// and bad values of every flag exiting 2.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli_helpers.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) { return fz::test::fresh_temp_path("conventions", name); }

using Run = fz::test::BinaryRun;
Run run_binary(const std::string& args, const std::string& before = "") {
  return fz::test::run_flowzoo(args, temp_path("io"), before);
}

// `flowzoo <command> --help`, as a map from each option's long name to its whole entry (the
// line naming it and its continuation lines), e.g. "--hidden" -> "  --hidden UINT:... width".
std::map<std::string, std::string> help_entries(const std::string& command) {
  const Run r = run_binary(command + " --help");
  REQUIRE(r.status == 0);
  std::map<std::string, std::string> entries;
  std::istringstream in(r.out);
  std::string line, current;
  const std::regex option_line("^  (-[a-z],)?(--[a-z0-9-]+)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, option_line)) {
      current = m[2];
      entries[current] = line;
    } else if (!current.empty() && line.rfind("    ", 0) == 0) {
      entries[current] += "\n" + line;
    } else {
      current.clear();
    }
  }
  return entries;
}

// The tiny toy run of these tests, as flags.
const std::string kToyFlags =
    " --model realnvp --dataset toy --couplings 2 --hidden 8 --batch 32 --threads 1 --sample-every 0";

}  // namespace

TEST_CASE("conventions: train, tape and profile declare their shared model and data flags once", "[cli][conventions]") {
  const auto train = help_entries("train"), tape = help_entries("tape"), profile = help_entries("profile");
  const std::vector<std::string> shared = {
      "--model", "--dataset", "--data-dir", "--density", "--batch", "--seed", "--threads", "--levels",
      "--steps-per-level", "--hidden", "--blocks", "--couplings", "--additive", "--plain-1x1", "--learn-top",
      "--weight-norm", "--transformer", "--bins", "--tail-bound", "--mixtures"};
  for (const std::string& flag : shared) {
    INFO(flag);
    REQUIRE(train.count(flag) == 1);
    REQUIRE(tape.count(flag) == 1);
    REQUIRE(profile.count(flag) == 1);
    CHECK(train.at(flag) == tape.at(flag));
    CHECK(train.at(flag) == profile.at(flag));
  }
  // The same validation: a density that does not exist is a bad flag on each (it used to be
  // found only when the data was loaded, exit 1).
  for (const std::string& command : {"train", "tape", "profile"}) {
    INFO(command);
    const Run r = run_binary(command + " --dataset toy --density moonz --steps 2 --out " + temp_path("never"));
    CHECK(r.status == 2);
    CHECK(fz::test::count_lines(r.err) == 1);
    CHECK(r.err.find("--density") != std::string::npos);
    CHECK(r.err.find("moonz") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(temp_path("never")));
}
