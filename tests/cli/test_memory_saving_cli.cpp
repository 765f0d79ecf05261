// tests/cli/test_memory_saving_cli.cpp — `train --memory-saving`: invertible and checkpoint
// modes train a tiny Glow to the parameters of the normal mode (float32 tolerance), the choice
// is saved in config.json, and a bad value is a bad flag (exit 2). --memory-report prints the
// training steps' memory peak split into parameter state, activations and data.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "cli_helpers.hpp"
#include "tensor/safetensors.hpp"

using namespace fz;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return fz::test::fresh_temp_path("memsave", name); }

const std::string kTinyGlow =
    "train --model glow --levels 2 --steps-per-level 2 --hidden 8 --steps 3 --batch 8 --threads 1 "
    "--eval-every 0 --sample-every 0 --eval-limit 16 --final-eval-limit 16 --quiet";

}  // namespace

TEST_CASE("cli: --memory-saving invertible and checkpoint train a tiny glow to the normal mode's parameters",
          "[cli][memory-saving]") {
  const std::string plain = temp_dir("none");
  REQUIRE(fz::test::run_flowzoo(kTinyGlow + " --out " + plain, temp_dir("io")).status == 0);
  const NamedTensors reference = load_safetensors(plain + "/checkpoint.safetensors");
  for (const char* mode : {"invertible", "checkpoint"}) {
    INFO("mode " << mode);
    const std::string out = temp_dir(mode);
    // Not quiet: invertible mode's closing lines report the reconstruction error.
    std::string loud = kTinyGlow;
    loud.erase(loud.find(" --quiet"), 8);
    const auto r = fz::test::run_flowzoo(loud + " --memory-saving " + mode + " --memory-report --out " + out, temp_dir("io"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    // --memory-report (cli/memory_report.hpp): the steps' peak split into its kinds, each non-zero.
    REQUIRE(r.out.find("training steps: peak") != std::string::npos);
    for (const char* part : {"parameter state ", "activations ", "data "}) {
      const std::string line = r.out.substr(r.out.find("training steps: peak"));
      const std::size_t at = line.find(part);
      REQUIRE(at != std::string::npos);
      CHECK(std::stod(line.substr(at + std::string(part).size())) > 0);
    }
    CHECK(r.out.find("process peak resident memory") != std::string::npos);
    CHECK((r.out.find("worst reconstruction error") != std::string::npos) == (std::string(mode) == "invertible"));
    CHECK(fz::test::read_json(out + "/config.json")["training"]["memory_saving"] == mode);
    const NamedTensors saved = load_safetensors(out + "/checkpoint.safetensors");
    REQUIRE(saved.f32.size() == reference.f32.size());
    double worst = 0;
    std::size_t compared = 0;
    for (std::size_t i = 0; i < saved.f32.size(); ++i) {
      REQUIRE(saved.f32[i].first == reference.f32[i].first);
      if (saved.f32[i].first.rfind("trainer.", 0) == 0) continue;  // step counters, timers
      const auto a = saved.f32[i].second.to_vector(), b = reference.f32[i].second.to_vector();
      REQUIRE(a.size() == b.size());
      for (std::size_t k = 0; k < a.size(); ++k)
        worst = std::max(worst, std::abs(double(a[k]) - b[k]) / std::max(1.0, std::abs(double(b[k]))));
      ++compared;
    }
    CHECK(compared > 10);
    CHECK(worst <= 1e-4);
    fs::remove_all(out);
  }
  fs::remove_all(plain);
}

TEST_CASE("cli: a bad --memory-saving value, or one resflow cannot use, exits 2", "[cli][memory-saving]") {
  const std::string out = temp_dir("bad");
  fz::test::check_flag_refused(fz::test::run_flowzoo(kTinyGlow + " --memory-saving sometimes --out " + out, temp_dir("io")),
                               "--memory-saving", out);
  fz::test::check_flag_refused(
      fz::test::run_flowzoo("train --model resflow --dataset toy --steps 2 --threads 1 --quiet --memory-saving invertible --out " + out,
                            temp_dir("io")),
      "resflow", out);
  fs::remove_all(out);
}
