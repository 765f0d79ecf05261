// tests/cli/test_cli_conditional.cpp — class-conditional runs through the real binary: train
// --conditional on a labelled folder dataset (3 classes of 8x8 grey images: dark, grey, bright),
// config.json and --resume carrying the class count, sample --class K and --class-grid, eval's
// Bayes accuracy and marginal bits/dim, and the refusals (toy data, unlabelled images, an
// unconditional run given --class or resumed with --conditional, a class out of range).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "datasets/image_folder.hpp"
#include "datasets/image_write.hpp"
#include "tensor/random.hpp"
#include "tests/cli/cli_helpers.hpp"

using fz::test::BinaryRun;
using fz::test::check_flag_refused;
using fz::test::fresh_temp_path;
using fz::test::read_json;
using fz::test::run_flowzoo;

namespace fs = std::filesystem;

namespace {

std::string temp(const std::string& name) { return fresh_temp_path("conditional", name); }

// <dir>/<class>/<i>.png: `per_class` 8x8 grey images per class, pixels around the class's
// brightness (+-20). With `loose`, one more image directly in <dir> (unlabelled).
void write_brightness_folder(const std::string& dir, std::size_t per_class, bool loose = false) {
  const char* names[] = {"a-dark", "b-grey", "c-bright"};
  const int centre[] = {30, 128, 225};
  fz::Rng rng(3);
  for (int k = 0; k < 3; ++k) {
    fs::create_directories(dir + "/" + names[k]);
    for (std::size_t i = 0; i < per_class; ++i) {
      fz::TensorU8 image({1, 8, 8});
      for (auto& v : image) v = static_cast<std::uint8_t>(centre[k] - 20 + static_cast<int>(rng.below(41)));
      fz::write_png(dir + "/" + names[k] + "/" + std::to_string(i) + ".png", image);
    }
  }
  if (loose) fz::write_png(dir + "/loose.png", fz::TensorU8({1, 8, 8}));
}

std::string tiny_glow_flags(const std::string& data) {
  return "--model glow --levels 2 --steps-per-level 1 --hidden 8 --dataset folder --data-dir " + data +
         " --channels 1 --image-size 8 --batch 12 --lr 1e-2 --warmup 0 --eval-every 0 --sample-every 0 --threads 1";
}

}  // namespace

TEST_CASE("cli conditional: train, resume, sample --class, class grid and eval's accuracy", "[cli][conditional]") {
  const std::string data = temp("data"), out = temp("run"), scratch = temp("scratch");
  write_brightness_folder(data, 12);
  const BinaryRun train = run_flowzoo("train " + tiny_glow_flags(data) + " --conditional --steps 40 --out " + out, scratch);
  INFO(train.out << train.err);
  REQUIRE(train.status == 0);
  CHECK(train.out.find("conditional on 3 classes") != std::string::npos);
  CHECK(read_json(out + "/config.json")["model"]["classes"] == 3);
  CHECK(read_json(out + "/results.json")["classes"] == 3);
  CHECK(fs::exists(out + "/samples_final_T1.png"));

  // --resume continues the conditional run (with or without the flag).
  const BinaryRun resumed = run_flowzoo("train --out " + out + " --resume --conditional --steps 45 --quiet", scratch);
  INFO(resumed.err);
  REQUIRE(resumed.status == 0);
  CHECK(read_json(out + "/config.json")["model"]["classes"] == 3);
  const std::string ckpt = out + "/checkpoint.safetensors";

  const std::string one = temp("class2.png"), grid = temp("grid.png");
  const BinaryRun s = run_flowzoo("sample --checkpoint " + ckpt + " --class 2 --n 4 --out " + one, scratch);
  INFO(s.err);
  CHECK(s.status == 0);
  CHECK(fs::file_size(one) > 0);
  const BinaryRun g = run_flowzoo("sample --checkpoint " + ckpt + " --class-grid --n 5 --upscale 1 --out " + grid, scratch);
  INFO(g.err);
  CHECK(g.status == 0);
  // Three rows of five 8x8 tiles with their labels: taller than wide is impossible, and it is
  // at least three tiles high.
  const fz::TensorU8 picture = fz::read_image(grid, 3);
  CHECK(picture.shape()[1] >= 3 * 8);
  CHECK(picture.shape()[2] >= 5 * 8);

  // Without --class a conditional run draws its class grid.
  const BinaryRun plain = run_flowzoo("sample --checkpoint " + ckpt + " --n 2 --out " + grid, scratch);
  CHECK(plain.status == 0);
  CHECK(plain.out.find("a row per class") != std::string::npos);
  const BinaryRun two_temperatures =
      run_flowzoo("sample --checkpoint " + ckpt + " --class 1 --temperatures 0.5,1 --n 3 --out " + one, scratch);
  CHECK(two_temperatures.status == 0);

  const BinaryRun bad_class = run_flowzoo("sample --checkpoint " + ckpt + " --class 3 --out " + one, scratch);
  CHECK(bad_class.status == 2);
  CHECK(bad_class.err.find("0 to 2") != std::string::npos);

  const BinaryRun eval = run_flowzoo("eval --checkpoint " + ckpt, scratch);
  INFO(eval.out << eval.err);
  REQUIRE(eval.status == 0);
  CHECK(eval.out.find("accuracy:") != std::string::npos);
  CHECK(eval.out.find("marginal bits/dim:") != std::string::npos);
  const BinaryRun eval_json = run_flowzoo("eval --checkpoint " + ckpt + " --json", scratch);
  REQUIRE(eval_json.status == 0);
  const nlohmann::json j = nlohmann::json::parse(eval_json.out.substr(eval_json.out.rfind('{')));
  CHECK(j["classes"] == 3);
  CHECK(j["class_prior"] == "uniform");
  CHECK(j["count"] == 36);
  CHECK(j["accuracy"].get<double>() >= 0.9);  // brightness separates the classes
  // p(x) >= p(x | y) / 3: at most log2(3) bits per image above the conditional.
  CHECK(j["marginal_bpd"].get<double>() > 0);
  CHECK(j["marginal_bpd"].get<double>() <= j["bpd"].get<double>() + std::log2(3.0) / 64 + 1e-6);

  const BinaryRun log_probs = run_flowzoo("eval --checkpoint " + ckpt + " --log-probs " + temp("lp.safetensors"), scratch);
  CHECK(log_probs.status == 2);
  const BinaryRun weighted = run_flowzoo("eval --checkpoint " + ckpt + " --importance-samples 4", scratch);
  CHECK(weighted.status == 2);
  CHECK(weighted.err.find("--importance-samples is not available for a class-conditional run") != std::string::npos);
  const BinaryRun inspect = run_flowzoo("inspect --checkpoint " + ckpt, scratch);
  CHECK(inspect.status == 1);
  CHECK(inspect.err.find("class-conditional") != std::string::npos);
  fs::remove_all(data);
  fs::remove_all(out);
  fs::remove(one);
  fs::remove(grid);
}

TEST_CASE("cli conditional: refusals", "[cli][conditional]") {
  const std::string data = temp("refusal_data"), loose = temp("loose_data"), scratch = temp("refusal_scratch");
  write_brightness_folder(data, 4);
  write_brightness_folder(loose, 4, /*loose=*/true);

  const std::string toy_out = temp("toy");
  check_flag_refused(run_flowzoo("train --dataset toy --conditional --steps 2 --out " + toy_out, scratch),
                     "--conditional needs an image dataset with labels", toy_out);
  const std::string loose_out = temp("loose");
  check_flag_refused(run_flowzoo("train " + tiny_glow_flags(loose) + " --conditional --steps 2 --out " + loose_out, scratch),
                     "unlabelled images", loose_out);
  const std::string nice_out = temp("nice");
  check_flag_refused(run_flowzoo("train --model nice --dataset folder --data-dir " + data +
                                     " --channels 1 --image-size 8 --batch 4 --conditional --steps 2 --out " + nice_out,
                                 scratch),
                     "glow, nsf, realnvp", nice_out);
  const std::string variational_out = temp("variational");
  check_flag_refused(run_flowzoo("train " + tiny_glow_flags(data) + " --conditional --dequantization variational "
                                 "--steps 2 --out " + variational_out, scratch),
                     "--conditional with --dequantization variational is not available", variational_out);

  // An unconditional run: --class and --class-grid are refused, and so is resuming it as conditional.
  const std::string plain = temp("plain");
  const BinaryRun train = run_flowzoo("train " + tiny_glow_flags(data) + " --steps 2 --quiet --out " + plain, scratch);
  REQUIRE(train.status == 0);
  const std::string ckpt = plain + "/checkpoint.safetensors";
  for (const char* flag : {"--class 0", "--class-grid"}) {
    const BinaryRun r = run_flowzoo("sample --checkpoint " + ckpt + " " + flag + " --out " + temp("x.png"), scratch);
    CHECK(r.status == 2);
    CHECK(r.err.find("not a class-conditional run") != std::string::npos);
  }
  const BinaryRun resume = run_flowzoo("train --out " + plain + " --resume --conditional --steps 3 --quiet", scratch);
  CHECK(resume.status == 2);
  CHECK(resume.err.find("unconditional") != std::string::npos);
  for (const std::string& d : {data, loose, plain}) fs::remove_all(d);
}
