// tests/cli/test_ffjord_cli.cpp — `--model ffjord` through the commands: tiny runs on two moons
// with each solver (--steps 2), then eval, sample, inspect, density, tape and profile on them;
// the solver settings in config.json; --resume continuing with another solver (applied, with a
// warning); the zoo's FFJORD row; and the ODE and transformer flags that do not fit (exit 2,
// one line).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "tests/cli/cli_helpers.hpp"
#include "tests/cli/cli_process.hpp"

using namespace fz::test;
namespace fs = std::filesystem;

namespace {

const std::string kToyData = " --dataset toy --density moons --hidden 8 --blocks 1 --batch 32 --threads 1 --quiet";
const std::string kToy = kToyData + " --steps 2";

void require_ok(const BinaryRun& r, const std::string& what) {
  INFO(what << ": " << r.err);
  REQUIRE(r.status == 0);
}

}  // namespace

TEST_CASE("cli ffjord: trains on two moons with rk4 and dopri5; eval, sample, inspect, density, tape "
          "and profile work on it", "[cli][ffjord]") {
  const std::string scratch = fresh_temp_path("ffjord", "scratch");
  struct Case {
    std::string name, flags, solver;
  };
  const Case cases[] = {{"rk4", " --ode-solver rk4 --ode-steps 3", "rk4"},
                        {"dopri5", " --ode-rtol 1e-4 --ode-atol 1e-6", "dopri5"}};
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string out = fresh_temp_path("ffjord", c.name);
    require_ok(run_flowzoo("train --model ffjord" + c.flags + kToy + " --out " + out, scratch), "train");
    const nlohmann::json model = read_json(out + "/config.json")["model"];
    CHECK(model["model"] == "ffjord");
    CHECK(model["transformer"] == "");
    CHECK(model["ode_solver"] == c.solver);
    if (c.solver == "rk4") CHECK(model["ode_steps"] == 3);
    if (c.solver == "dopri5") {
      CHECK(model["ode_rtol"] == 1e-4);
      CHECK(model["ode_atol"] == 1e-6);
    }
    const nlohmann::json results = read_json(out + "/results.json");
    CHECK(std::isfinite(results["test_nll_nats"].get<double>()));
    const std::string ckpt = " --checkpoint " + out + "/checkpoint.safetensors";
    BinaryRun r = run_flowzoo("eval --limit 300" + ckpt, scratch);
    require_ok(r, "eval");
    CHECK(r.out.find("NLL") != std::string::npos);
    // The exact trace in eval mode: the same number twice.
    const BinaryRun again = run_flowzoo("eval --limit 300" + ckpt, scratch);
    CHECK(again.out == r.out);
    require_ok(run_flowzoo("sample --n 16" + ckpt + " --out " + out + "/s.png", scratch), "sample");
    CHECK(fs::file_size(out + "/s.png") > 100);
    require_ok(run_flowzoo("inspect --limit 200" + ckpt, scratch), "inspect");
    require_ok(run_flowzoo("density --grid 12" + ckpt + " --out " + out + "/d.png --csv " + out + "/d.csv", scratch),
               "density");
    CHECK(lines_of(out + "/d.csv").size() == 12 * 12 + 1);
    const std::string study = " --model ffjord" + c.flags + " --dataset toy --hidden 8 --blocks 1 --batch 16 --threads 1";
    r = run_flowzoo("tape" + study, scratch);
    require_ok(r, "tape");
    CHECK(r.out.find("ffjord") != std::string::npos);
    require_ok(run_flowzoo("profile --steps 1 --warmup 1" + study, scratch), "profile");
    fs::remove_all(out);
  }
}

TEST_CASE("cli ffjord: --resume may change the ODE solver (a warning) but not the network", "[cli][ffjord]") {
  const std::string scratch = fresh_temp_path("ffjord", "scratch_resume");
  const std::string out = fresh_temp_path("ffjord", "resume");
  require_ok(run_flowzoo("train --model ffjord --ode-solver rk4 --ode-steps 2" + kToy + " --out " + out, scratch),
             "train");
  // Not --quiet: the warnings are the point.
  const std::string loud = " --dataset toy --density moons --hidden 8 --blocks 1 --batch 32 --threads 1";
  BinaryRun r = run_flowzoo("train --model ffjord --ode-solver dopri5 --ode-rtol 1e-3" + loud + " --steps 4 --out " +
                                out + " --resume",
                            scratch);
  require_ok(r, "resume");
  CHECK(r.err.find("--ode-solver 'dopri5' replaces the saved 'rk4'") != std::string::npos);
  CHECK(r.err.find("--ode-rtol 0.001 replaces the saved 0.0001") != std::string::npos);
  CHECK(metric_rows(out + "/metrics.csv") == 4);
  require_ok(run_flowzoo("eval --limit 100 --checkpoint " + out + "/checkpoint.safetensors", scratch), "eval");
  r = run_flowzoo("train --model ffjord --hidden 16 --dataset toy --density moons --blocks 1 --batch 32 --threads 1 "
                  "--quiet --steps 6 --out " + out + " --resume",
                  scratch);
  CHECK(r.status == 2);
  CHECK(r.err.find("--hidden saved 8, given 16") != std::string::npos);
  fs::remove_all(out);
}

TEST_CASE("cli ffjord: ODE and transformer flags that do not fit are bad flags (exit 2, one line)", "[cli][ffjord]") {
  const std::string out = fresh_temp_path("ffjord", "refused");
  const std::string scratch = fresh_temp_path("ffjord", "scratch_refused");
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--model ffjord --transformer spline", "ffjord is a continuous flow without couplings: it takes no transformer"},
      {"--model ffjord --bins 4", "--bins is for the spline transformer"},
      {"--model realnvp --ode-solver rk4", "--ode-solver is for a continuous flow (--model ffjord), not realnvp"},
      {"--model nsf --ode-rtol 1e-3", "--ode-rtol is for a continuous flow"},
      {"--model ffjord --ode-steps 4", "--ode-steps is for the fixed-step solver (--ode-solver rk4), not dopri5"},
      {"--model ffjord --ode-solver rk4 --ode-atol 1e-3", "--ode-atol is for the adaptive solver"},
      {"--model ffjord --ode-solver euler", "--ode-solver"},
      {"--model ffjord --ode-rtol 0", "--ode-rtol"},
      {"--model ffjord --ode-atol 1", "--ode-atol"},
      {"--model ffjord --ode-rtol nan", "--ode-rtol"},
      {"--model ffjord --ode-solver rk4 --ode-steps 0", "--ode-steps"},
      {"--model ffjord --ode-solver rk4 --ode-steps 10001", "--ode-steps"},
  };
  for (const Case& c : cases) {
    const BinaryRun r = run_flowzoo("train " + c.args + kToy + " --out " + out, scratch);
    INFO(c.args << ": " << r.err);
    check_flag_refused(r, c.message, out);
  }
  fs::remove_all(out);
}
