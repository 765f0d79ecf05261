// tests/cli/test_resflow_cli.cpp — `--model resflow` through the commands of a 2-D run: a few
// training steps on two moons, then eval (deterministic: the exact log-det in eval mode), sample
// (the fixed-point inverse), density, --resume; --transformer and the spline/mixture flags are
// bad flags for it, images are bad input; and its row in `flowzoo zoo`.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/cli/cli_helpers.hpp"
#include "tests/cli/cli_process.hpp"

using namespace fz::test;
namespace fs = std::filesystem;

TEST_CASE("cli resflow: trains on two moons; eval, sample, density and --resume work on it",
          "[cli][resflow]") {
  const std::string scratch = fresh_temp_path("resflow", "scratch");
  const std::string out = fresh_temp_path("resflow", "run");
  const std::string toy = " --model resflow --couplings 2 --hidden 16 --dataset toy --density moons --batch 64 "
                          "--threads 1 --quiet";
  BinaryRun r = run_flowzoo("train" + toy + " --steps 3 --out " + out, scratch);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const nlohmann::json model = read_json(out + "/config.json")["model"];
  CHECK(model["model"] == "resflow");
  CHECK(model["couplings"] == 2);
  CHECK(model["hidden"] == 16);
  CHECK(model["blocks"] == 2);
  CHECK(model["transformer"] == "");
  const std::string ckpt = " --checkpoint " + out + "/checkpoint.safetensors";
  r = run_flowzoo("eval --limit 300 --json" + ckpt, scratch);
  REQUIRE(r.status == 0);
  const BinaryRun again = run_flowzoo("eval --limit 300 --json" + ckpt, scratch);
  CHECK(again.out == r.out);  // exact log-det in eval mode: the same numbers
  CHECK(r.out.find("\"nll_nats\"") != std::string::npos);
  r = run_flowzoo("sample --n 64" + ckpt + " --out " + out + "/s.png", scratch);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(fs::file_size(out + "/s.png") > 100);
  r = run_flowzoo("density --grid 10" + ckpt + " --out " + out + "/d.png --csv " + out + "/d.csv", scratch);
  REQUIRE(r.status == 0);
  CHECK(lines_of(out + "/d.csv").size() == 10 * 10 + 1);
  r = run_flowzoo("train" + toy + " --steps 5 --out " + out + " --resume", scratch);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(metric_rows(out + "/metrics.csv") == 5);
  fs::remove_all(out);
}

TEST_CASE("cli resflow: a transformer or its flags are bad flags, images bad input", "[cli][resflow]") {
  const std::string scratch = fresh_temp_path("resflow", "bad");
  const std::string out = fresh_temp_path("resflow", "bad-run");
  BinaryRun r = run_flowzoo("train --model resflow --transformer affine --dataset toy --steps 1 --out " + out, scratch);
  CHECK(r.status == 2);
  CHECK(r.err.find("resflow has no transformer") != std::string::npos);
  r = run_flowzoo("train --model resflow --bins 5 --dataset toy --steps 1 --out " + out, scratch);
  CHECK(r.status == 2);
  CHECK(r.err.find("--bins") != std::string::npos);
  r = run_flowzoo("tape --model resflow --dataset fashion-mnist", scratch);
  CHECK(r.status != 0);
  CHECK(r.err.find("resflow: vector") != std::string::npos);
  CHECK(!fs::exists(out + "/checkpoint.safetensors"));
}
