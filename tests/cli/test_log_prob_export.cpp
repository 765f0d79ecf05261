// tests/cli/test_log_prob_export.cpp — `eval --log-probs FILE` (cli/log_prob_export.hpp): the
// file holds eval's own inputs (the run's fixed 2-D test set; the test images dequantized from
// eval's noise stream) and per-example log-likelihoods that average to eval's numbers.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/loaded_run.hpp"
#include "cli/run_data.hpp"
#include "cli_helpers.hpp"
#include "flows/image_likelihood.hpp"
#include "tensor/safetensors.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

TEST_CASE("cli: eval --log-probs on 2-D data writes the test points and their log p", "[cli]") {
  const std::string out = fz::test::fresh_temp_path("logprobs", "toy");
  REQUIRE(run_train(fz::test::toy_request(out, 5, 3)) == kExitOk);
  EvalRequest e;
  e.checkpoint = out + "/checkpoint.safetensors";
  e.limit = 40;
  e.log_probs = out + "/lp.safetensors";
  REQUIRE(run_eval(e) == kExitOk);
  const NamedTensors file = load_safetensors(e.log_probs);
  const Tensor<float>& x = file.get_f32("inputs");
  const Tensor<float>& lp = file.get_f32("log_prob");
  REQUIRE(x.shape() == Shape{40, 2});
  REQUIRE(lp.shape() == Shape{40});
  LoadedRun run = load_run(e.checkpoint);
  const Tensor<float> test = load_run_data(run.info.config, false).toy_test(40);
  REQUIRE(x.to_vector() == test.to_vector());  // eval's fixed test set, unchanged
  double nll = 0;
  for (std::size_t i = 0; i < 40; ++i) nll -= lp[i];
  CHECK(nll / 40 == Approx(run.trainer->evaluate_continuous(test, 2000)).epsilon(1e-6));
  CHECK(file.metadata.at("flowzoo.step") == "5");
  CHECK(file.metadata.at("flowzoo.dims") == "2");
  fs::remove_all(out);
}

TEST_CASE("cli: eval --log-probs on images writes the dequantized test images and their log p", "[cli]") {
  const std::string out = fz::test::fresh_temp_path("logprobs", "glow");
  TrainRequest t = fz::test::tiny_glow_request(out, 2, 1, 1, 4);
  t.config.final_eval_limit = 4;
  REQUIRE(run_train(t) == kExitOk);
  EvalRequest e;
  e.checkpoint = out + "/checkpoint.safetensors";
  e.limit = 6;
  e.log_probs = out + "/lp.safetensors";
  REQUIRE(run_eval(e) == kExitOk);
  const NamedTensors file = load_safetensors(e.log_probs);
  const Tensor<float>& x = file.get_f32("inputs");
  const Tensor<float>& lp = file.get_f32("log_prob");
  REQUIRE(x.shape() == Shape{6, 1, 28, 28});
  REQUIRE(lp.shape() == Shape{6});
  LoadedRun run = load_run(e.checkpoint);
  const RunData data = load_run_data(run.info.config, false);
  // Every input lies in its pixel's bin [p / 256, (p + 1) / 256).
  for (std::size_t i = 0; i < x.numel(); ++i) {
    INFO("element " << i);
    REQUIRE(static_cast<int>(std::floor(x[i] * 256.0f)) == static_cast<int>(data.test.images.data()[i]));
  }
  double bpd = 0;
  for (std::size_t i = 0; i < 6; ++i) bpd += bits_per_dim(static_cast<double>(lp[i]), 784) / 6;
  TensorU8 first = TensorU8::empty({6, 1, 28, 28});
  std::copy(data.test.images.data(), data.test.images.data() + first.numel(), first.data());
  CHECK(bpd == Approx(run.trainer->evaluate_images(first, 256, run.info.config.seed)).epsilon(1e-6));
  CHECK(file.metadata.at("flowzoo.dims") == "784");
  CHECK(file.metadata.at("flowzoo.bits") == "8");
  fs::remove_all(out);
}

TEST_CASE("cli: eval --log-probs into a folder that does not exist is an error naming the file", "[cli]") {
  const std::string out = fz::test::fresh_temp_path("logprobs", "bad");
  REQUIRE(run_train(fz::test::toy_request(out, 2, 3)) == kExitOk);
  EvalRequest e;
  e.checkpoint = out + "/checkpoint.safetensors";
  e.limit = 10;
  e.log_probs = out + "/no/such/dir/lp.safetensors";
  REQUIRE_THROWS_WITH(run_eval(e), Catch::Contains("lp.safetensors"));
  fs::remove_all(out);
}
