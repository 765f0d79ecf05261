// tests/cli/test_reference_ops_flag.cpp — `--reference-ops` and FZ_REFERENCE_OPS=1 (every fused
// op as its plain composition of primitive ops, tensor/reference_mode.hpp) through the real
// binary: `eval` of tiny checkpoints (2-D runs trained here, the image fixtures of
// tests/cli/coupling_checkpoints/) gives the same numbers as the default run, and the flag
// really switches the path (`tape` lists no fused op under it).
//
// Tolerance 1e-5 relative: the evaluation is float32; the two paths differ by the rounding of
// reassociated sums in each op (a few ulp, 6e-8 each) passed through a few couplings, about
// 1e-6 of the NLL at most. A wrong plain form would move it by far more.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "cli/commands.hpp"
#include "cli_helpers.hpp"

namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) { return fz::test::fresh_temp_path("refops", name); }

// `field` of the JSON object on the last line of `eval --json` (nll_nats, bpd).
double eval_number(const std::string& checkpoint, const std::string& flags, const std::string& env,
                   const char* field = "nll_nats", const char* limit = "400") {
  const fz::test::BinaryRun r = fz::test::run_flowzoo(
      "eval --checkpoint " + checkpoint + " --limit " + limit + " --json " + flags, temp_path("io"), env);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string last = r.out.substr(r.out.rfind('{'));
  return nlohmann::json::parse(last).at(field).get<double>();
}

double eval_nll(const std::string& checkpoint, const std::string& flags, const std::string& env) {
  return eval_number(checkpoint, flags, env);
}

}  // namespace

TEST_CASE("cli --reference-ops / FZ_REFERENCE_OPS=1: eval gives the default's numbers", "[cli][reference]") {
  for (const char* model : {"realnvp", "glow"}) {
    INFO("model " << model);
    const std::string out = temp_path(std::string("run_") + model);
    fz::cli::TrainRequest req = fz::test::toy_request(out, 5, 11);
    req.config.model.model = model;
    REQUIRE(fz::cli::run_train(req) == fz::cli::kExitOk);
    const std::string ckpt = out + "/checkpoint.safetensors";
    const double fused = eval_nll(ckpt, "", "FZ_REFERENCE_OPS=0");
    const double flag = eval_nll(ckpt, "--reference-ops", "FZ_REFERENCE_OPS=0");
    const double env = eval_nll(ckpt, "", "FZ_REFERENCE_OPS=1");
    CHECK(std::isfinite(fused));
    CHECK(std::abs(flag - fused) <= 1e-5 * std::abs(fused));
    CHECK(env == flag);  // the same switch, the same path: bit for bit
    fs::remove_all(out);
  }
}

// The image models (ActNorm, Glow's and RealNVP's conditioner chains, checkerboard couplings)
// on the 2-step Fashion-MNIST checkpoints of tests/cli/coupling_checkpoints/: test bits/dim of
// 16 images.
TEST_CASE("cli --reference-ops / FZ_REFERENCE_OPS=1: eval of image checkpoints gives the default's "
          "bits/dim", "[cli][reference]") {
  for (const char* name : {"realnvp_img", "glow_img", "glow_add_img"}) {
    INFO(name);
    const std::string ckpt = std::string(FZ_COUPLING_FIXTURES) + "/" + name + ".safetensors";
    const double fused = eval_number(ckpt, "", "FZ_REFERENCE_OPS=0", "bpd", "16");
    const double flag = eval_number(ckpt, "--reference-ops", "FZ_REFERENCE_OPS=0", "bpd", "16");
    const double env = eval_number(ckpt, "", "FZ_REFERENCE_OPS=1", "bpd", "16");
    CHECK(std::isfinite(fused));
    CHECK(std::abs(flag - fused) <= 1e-5 * std::abs(fused));
    CHECK(env == flag);
  }
}

TEST_CASE("cli --reference-ops: the tape holds no fused op, and --help documents the flag", "[cli][reference]") {
  const std::string model = "--model realnvp --dataset toy --couplings 2 --hidden 8 --batch 16 --threads 1";
  const fz::test::BinaryRun fused = fz::test::run_flowzoo("tape " + model, temp_path("io"), "FZ_REFERENCE_OPS=0");
  const fz::test::BinaryRun plain = fz::test::run_flowzoo("tape --reference-ops " + model, temp_path("io"));
  INFO(fused.err << plain.err);
  REQUIRE(fused.status == 0);
  REQUIRE(plain.status == 0);
  CHECK(fused.out.find("linear_relu") != std::string::npos);
  CHECK(plain.out.find("linear_relu") == std::string::npos);
  CHECK(plain.out.find("matmul") != std::string::npos);
  for (const char* cmd : {"train", "eval", "sample", "density", "inspect", "latents", "tape", "profile", "zoo"}) {
    INFO(cmd);
    const fz::test::BinaryRun help = fz::test::run_flowzoo(std::string(cmd) + " --help", temp_path("io"));
    CHECK(help.status == 0);
    CHECK(help.out.find("--reference-ops") != std::string::npos);
  }
}
