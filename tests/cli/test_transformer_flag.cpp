// tests/cli/test_transformer_flag.cpp — `train --transformer`: the couplings' transformer is
// chosen on the command line for realnvp and glow, saved in config.json (with bins, tail_bound,
// mixtures), kept by --resume (which refuses a different one), and a combination that cannot be
// built is a bad flag (exit 2) with a one-line reason (the spline and mixture runs, and their
// flags: tests/cli/test_new_models.cpp).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/cli/cli_helpers.hpp"

using namespace fz::test;

namespace {

const std::string kToy = " --dataset toy --couplings 2 --hidden 8 --batch 32 --threads 1 --quiet --steps 2";

}  // namespace

TEST_CASE("cli --transformer: additive realnvp is saved, resumed, and a different one is refused",
          "[cli][transformer-flag]") {
  const std::string out = fresh_temp_path("transformer", "realnvp_additive");
  const std::string scratch = fresh_temp_path("transformer", "scratch");
  BinaryRun r = run_flowzoo("train --model realnvp --transformer additive" + kToy + " --out " + out, scratch);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const nlohmann::json model = read_json(out + "/config.json")["model"];
  CHECK(model["transformer"] == "additive");
  CHECK(model["bins"] == 8);
  CHECK(model["tail_bound"] == 3.0);
  CHECK(model["mixtures"] == 4);

  r = run_flowzoo("train --model realnvp --transformer affine" + kToy + " --out " + out + " --resume", scratch);
  CHECK(r.status == 2);
  CHECK(r.err.find("--transformer saved 'additive', given 'affine'") != std::string::npos);
  // Without the flag the run continues with its saved (additive) couplings.
  r = run_flowzoo("train --model realnvp --dataset toy --threads 1 --quiet --steps 3 --out " + out + " --resume", scratch);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(read_json(out + "/config.json")["model"]["transformer"] == "additive");
  std::filesystem::remove_all(out);
}

TEST_CASE("cli --transformer: a run without the flag records its family's own transformer",
          "[cli][transformer-flag]") {
  const std::string scratch = fresh_temp_path("transformer", "scratch2");
  for (const char* model : {"realnvp", "glow", "nice"}) {
    const std::string out = fresh_temp_path("transformer", std::string("default_") + model);
    const BinaryRun r = run_flowzoo(std::string("train --model ") + model + kToy + " --steps-per-level 2 --out " + out, scratch);
    INFO(model << ": " << r.err);
    REQUIRE(r.status == 0);
    CHECK(read_json(out + "/config.json")["model"]["transformer"] == (std::string(model) == "nice" ? "additive" : "affine"));
    std::filesystem::remove_all(out);
  }
}

TEST_CASE("cli --transformer: nice has none, and "
          "--additive must agree (exit 2, one line)", "[cli][transformer-flag]") {
  const std::string out = fresh_temp_path("transformer", "refused");
  const std::string scratch = fresh_temp_path("transformer", "scratch3");
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--model nice --transformer affine",
       "--transformer affine: nice's couplings are additive (a transformer is for realnvp, glow, nsf and maf)"},
      {"--model glow --additive --transformer affine", "--additive contradicts --transformer affine"},
      {"--model glow --transformer rqs", "--transformer: rqs not in {additive,affine,spline,mixture}"},
  };
  for (const Case& c : cases) {
    const BinaryRun r = run_flowzoo("train " + c.args + kToy + " --out " + out, scratch);
    INFO(c.args << ": " << r.err);
    check_flag_refused(r, c.message, out);
  }
  std::filesystem::remove_all(out);
}
