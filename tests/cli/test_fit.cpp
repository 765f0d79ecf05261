// tests/cli/test_fit.cpp — `flowzoo fit` (cli/fit.cpp) through the real binary: a short fit end to
// end (fit.png and fit.json written, the numbers in fit.json finite and the KL >= -3 standard
// errors), bad --energy / --model / --steps / --layers exit 2 without writing, Ctrl-C still
// writes both files for the steps done and exits 130.
#include <catch2/catch.hpp>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <regex>
#include <sstream>

#include "cli_helpers.hpp"
#include "cli_process.hpp"

namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) { return fz::test::fresh_temp_path("fit", name); }

fz::test::BinaryRun run_binary(const std::string& args) { return fz::test::run_flowzoo(args, temp_path("io")); }

}  // namespace

TEST_CASE("cli fit: every model fits end to end and writes fit.png and fit.json", "[cli][fit]") {
  for (const std::string model : {"planar", "radial", "realnvp", "nsf"}) {
    SECTION(model) {
      const std::string out = temp_path("run_" + model);
      const std::string extra = model == "planar" || model == "radial" ? " --layers 4" : "";
      const auto r = run_binary("fit --energy u2 --model " + model + extra + " --steps 20 --batch 32 --threads 1 --out " + out);
      INFO(r.out << r.err);
      REQUIRE(r.status == 0);
      CHECK(r.out.find("fit: KL(q || p) = ") != std::string::npos);
      CHECK(fs::file_size(out + "/fit.png") > 1000);
      const nlohmann::json j = fz::test::read_json(out + "/fit.json");
      CHECK(j.at("energy") == "u2");
      CHECK(j.at("model") == model);
      CHECK(j.at("steps") == 20);
      CHECK(j.at("interrupted") == false);
      CHECK(j.at("schedule") == "cosine");
      for (const char* key : {"kl", "kl_standard_error", "log_z", "final_loss"}) {
        INFO(key);
        CHECK(std::isfinite(j.at(key).get<double>()));
      }
      const double kl = j.at("kl"), se = j.at("kl_standard_error");
      CHECK(se > 0);
      CHECK(kl >= -3 * se);
      // U2's log Z in closed form (flows/energy_integral.hpp): log(0.4 sqrt(2 pi) (8 + sqrt(2 pi) / 2)).
      const double s2pi = std::sqrt(2 * 3.14159265358979323846);
      CHECK(j.at("log_z").get<double>() == Approx(std::log(0.4 * s2pi * (8 + s2pi / 2))).epsilon(1e-6));
      fs::remove_all(out);
    }
  }
}

TEST_CASE("cli fit: bad flags exit 2 and write nothing", "[cli][fit]") {
  const std::string out = temp_path("bad");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--energy u5", "--energy"},        {"--model glow", "--model"},     {"--steps 0", "--steps"},
      {"--steps -3", "--steps"},          {"--steps abc", "--steps"},      {"--batch 1", "--batch"},
      {"--model realnvp --layers 4", "--layers"}, {"--lr nan", "--lr"},  {"--layers 0", "--layers"},
      {"--schedule step", "--schedule"},
  };
  for (const auto& [flags, named] : cases) {
    INFO(flags);
    const auto run = run_binary("fit " + flags + " --out " + out);
    CHECK(run.status == 2);
    CHECK(run.err.find(named) != std::string::npos);
    CHECK(fz::test::count_lines(run.err) == 1);
    CHECK_FALSE(fs::exists(out + "/fit.json"));
  }
  CHECK(run_binary("fit --energy u1").status == 2);  // --out is required
  // Every value-taking flag of `fit --help` (as tests/cli/test_cli_conventions.cpp sweeps the
  // other commands): a bad value exits 2 with one line naming the flag.
  const fz::test::BinaryRun help = run_binary("fit --help");
  REQUIRE(help.status == 0);
  std::istringstream lines(help.out);
  std::size_t swept = 0;
  const std::regex value_flag("^  (--[a-z-]+) (UINT|INT|FLOAT|TEXT)");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, value_flag) || m[1] == "--out") continue;
    for (const std::string value : {"nan", "-1e30", "1,2,x"}) {
      INFO(m[1] << " " << value);
      const auto run = run_binary("fit --out " + out + " " + std::string(m[1]) + " " + value);
      CHECK(run.status == 2);
      CHECK(fz::test::count_lines(run.err) == 1);
      CHECK(run.err.find(m[1]) != std::string::npos);
    }
    ++swept;
  }
  CHECK(swept >= 8);
  CHECK_FALSE(fs::exists(out + "/fit.json"));
}

TEST_CASE("cli fit: Ctrl-C ends the fit after the step and still writes its results (exit 130)", "[cli][fit]") {
  const std::string out = temp_path("interrupted");
  fz::test::FlowzooChild child = fz::test::spawn_flowzoo(
      {"fit", "--energy", "u1", "--model", "planar", "--layers", "4", "--steps", "100000000", "--batch", "16",
       "--threads", "1", "--out", out},
      temp_path("interrupted.err"));
  REQUIRE(fz::test::wait_for_output(child, "flowzoo fit:"));
  ::kill(child.pid, SIGINT);
  const fz::test::ChildResult result = fz::test::finish_flowzoo(child);
  CHECK(result.exit_code == 130);
  const nlohmann::json j = fz::test::read_json(out + "/fit.json");
  CHECK(j.at("interrupted") == true);
  CHECK(j.at("steps").get<std::size_t>() < 100000000);
  CHECK(std::isfinite(j.at("kl").get<double>()));
  CHECK(fs::exists(out + "/fit.png"));
  fs::remove_all(out);
}
