// tests/cli/test_study_tape.cpp — `flowzoo tape`, `flowzoo profile` and `train --profile`
// through the real binary on tiny models: the DOT file matches the listing, the profiler counts
// exactly the nodes the inspector saw (per step), and bad flags fail cleanly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "cli_helpers.hpp"

namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) { return fz::test::fresh_temp_path("tape", name); }

using Output = fz::test::BinaryRun;
Output flowzoo(const std::string& args) { return fz::test::run_flowzoo(args, temp_path("io")); }

using fz::test::slurp;

// The number after `label` in "total  <fwd n> ..." style rows: the first integer field.
std::size_t first_count(const std::string& text, const std::string& row_start) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(row_start, 0) == 0) {
      std::istringstream fields(line.substr(row_start.size()));
      std::size_t n = 0;
      fields >> n;
      return n;
    }
  return 0;
}

const char* kTinyGlow = "--model glow --levels 1 --steps-per-level 2 --hidden 8 --batch 4 --threads 1";

}  // namespace

TEST_CASE("cli tape: the DOT graph has exactly the listed nodes, and edges between declared ones", "[cli]") {
  const std::string dot_path = temp_path("graph.dot");
  const Output o = flowzoo(std::string("tape ") + kTinyGlow + " --dot " + dot_path);
  INFO(o.err);
  REQUIRE(o.status == 0);
  std::smatch m;
  REQUIRE(std::regex_search(o.out, m, std::regex(R"(\((\d+) nodes, (\d+) leaves, (\d+) edges)")));
  const std::size_t nodes = std::stoul(m[1]), leaves = std::stoul(m[2]), edges = std::stoul(m[3]);
  REQUIRE(nodes > 20);
  REQUIRE(first_count(o.out, "total") == nodes);  // the per-op totals row counts every node

  const std::string dot = slurp(dot_path);
  fs::remove(dot_path);
  std::set<std::string> declared;
  std::size_t node_lines = 0, leaf_lines = 0, edge_lines = 0;
  std::istringstream lines(dot);
  std::string line;
  const std::regex decl(R"(^  ([nl]\d+) \[)"), edge(R"(^  ([nl]\d+) -> (n\d+))");
  std::vector<std::pair<std::string, std::string>> edge_list;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, edge)) {
      ++edge_lines;
      edge_list.emplace_back(m[1], m[2]);
    } else if (std::regex_search(line, m, decl)) {
      declared.insert(m[1]);
      (m[1].str()[0] == 'n' ? node_lines : leaf_lines)++;
    }
  }
  REQUIRE(node_lines == nodes);
  REQUIRE(leaf_lines == leaves);
  REQUIRE(edge_lines == edges);
  REQUIRE(declared.size() == nodes + leaves);
  for (const auto& [from, to] : edge_list) {
    INFO(from << " -> " << to);
    REQUIRE(declared.count(from) == 1);
    REQUIRE(declared.count(to) == 1);
    // Creation order is a topological order: a node's inputs come before it.
    if (from[0] == 'n') REQUIRE(std::stoul(from.substr(1)) < std::stoul(to.substr(1)));
  }
  REQUIRE(o.out.find("peak during backward") != std::string::npos);
}

TEST_CASE("cli profile: forward counts are the inspector's nodes times the steps", "[cli]") {
  const Output tape = flowzoo(std::string("tape ") + kTinyGlow);
  REQUIRE(tape.status == 0);
  const std::size_t nodes = first_count(tape.out, "total");
  REQUIRE(nodes > 20);
  const Output prof = flowzoo(std::string("profile ") + kTinyGlow + " --steps 3 --warmup 1");
  INFO(prof.err);
  REQUIRE(prof.status == 0);
  REQUIRE(first_count(prof.out, "total") == 3 * nodes);
  REQUIRE(prof.out.find("ms/step") != std::string::npos);
  REQUIRE(prof.out.find("conv2d") != std::string::npos);
}

TEST_CASE("cli train --profile prints the op table after training", "[cli]") {
  const std::string out_dir = temp_path("run");
  const Output o = flowzoo("train --model realnvp --dataset toy --couplings 2 --hidden 8 --batch 32 --steps 6 "
                           "--threads 1 --eval-every 0 --sample-every 0 --quiet --profile --out " + out_dir);
  fs::remove_all(out_dir);
  INFO(o.err);
  REQUIRE(o.status == 0);
  REQUIRE(o.out.find("op profile of the training steps") != std::string::npos);
  // Six steps, each the same graph: every op's count is a multiple of 6, and without a mark
  // the first record of each step is untimed.
  const std::size_t total = first_count(o.out, "total");
  REQUIRE(total > 0);
  REQUIRE(total % 6 == 0);
  REQUIRE(o.out.find("6 records were the first of a forward pass") != std::string::npos);
}

TEST_CASE("cli tape/profile: bad flags and bad files exit non-zero with one line", "[cli]") {
  Output o = flowzoo("tape --model resnet");
  REQUIRE(o.status == 2);
  o = flowzoo("profile --model glow --steps 0");
  REQUIRE(o.status == 2);
  o = flowzoo(std::string("tape ") + kTinyGlow + " --dot /nonexistent/dir/g.dot");
  REQUIRE(o.status == 1);
  REQUIRE(o.err.find("--dot") != std::string::npos);
  REQUIRE(std::count(o.err.begin(), o.err.end(), '\n') == 1);
}
