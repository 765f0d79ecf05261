// tests/cli/test_flowpp_cli.cpp — `--model flowpp` through the commands on a folder of 8x8 grey
// images: a tiny run (2 steps, with attention), then eval, sample and inspect on its checkpoint;
// config.json records the mixture and the attention heads; --resume refuses changed heads; heads
// that do not divide --hidden are refused; and the flags that do not fit flowpp (or are flowpp's on another model) are bad flags, one line.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <stb_image_write.h>

#include "tests/cli/cli_helpers.hpp"
#include "tests/cli/cli_process.hpp"

using namespace fz::test;
namespace fs = std::filesystem;

namespace {

// Eight 8x8 grey images of different stripes.
std::string stripe_folder() {
  const std::string dir = fresh_temp_path("flowpp", "images");
  fs::create_directories(dir);
  for (int k = 0; k < 8; ++k) {
    std::vector<unsigned char> px(64);
    for (int i = 0; i < 64; ++i) px[i] = static_cast<unsigned char>(((i % 8) * 31 + (i / 8) * 17 * k) % 256);
    REQUIRE(stbi_write_png((dir + "/s" + std::to_string(k) + ".png").c_str(), 8, 8, 1, px.data(), 8) != 0);
  }
  return dir;
}

}  // namespace

TEST_CASE("cli flowpp: train (with attention), eval, sample, inspect; config and --resume", "[cli][flowpp]") {
  const std::string scratch = fresh_temp_path("flowpp", "scratch");
  const std::string data = stripe_folder();
  const std::string out = fresh_temp_path("flowpp", "run");
  const std::string flags = "--model flowpp --levels 2 --steps-per-level 1 --blocks 1 --mixtures 2 "
                            "--dataset folder --data-dir " + data +
                            " --channels 1 --image-size 8 --batch 4 --threads 1 --quiet --sample-every 0 --eval-every 0";
  BinaryRun r = run_flowzoo("train " + flags + " --hidden 4 --attention-heads 2 --steps 2 --out " + out, scratch);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const nlohmann::json model = read_json(out + "/config.json")["model"];
  CHECK(model["model"] == "flowpp");
  CHECK(model["transformer"] == "mixture");
  CHECK(model["mixtures"] == 2);
  CHECK(model["attention_heads"] == 2);
  const std::string ckpt = " --checkpoint " + out + "/checkpoint.safetensors";
  r = run_flowzoo("eval" + ckpt, scratch);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("bits/dim") != std::string::npos);
  r = run_flowzoo("sample --n 4" + ckpt + " --out " + out + "/s.png", scratch);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(fs::exists(out + "/s.png"));
  REQUIRE(run_flowzoo("inspect" + ckpt, scratch).status == 0);
  // The heads size parameters: a resumed run may not change them.
  r = run_flowzoo("train --out " + out + " --resume --steps 3 --attention-heads 4 --quiet", scratch);
  CHECK(r.status == 2);
  CHECK(r.err.find("--attention-heads") != std::string::npos);
  // Heads must divide the width: one line naming flowpp, nothing written.
  const std::string refused = fresh_temp_path("flowpp", "refused_heads");
  r = run_flowzoo("train " + flags + " --hidden 6 --attention-heads 4 --steps 1 --out " + refused, scratch);
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK(r.err.find("flowpp") != std::string::npos);
  CHECK(count_lines(r.err) == 1);
  CHECK(!fs::exists(refused + "/checkpoint.safetensors"));
  fs::remove_all(out);
  fs::remove_all(data);
}

TEST_CASE("cli flowpp: flags that do not fit are bad flags (exit 2, one line)", "[cli][flowpp]") {
  const std::string out = fresh_temp_path("flowpp", "refused");
  const std::string scratch = fresh_temp_path("flowpp", "scratch_refused");
  const std::string toy = " --dataset toy --density moons --hidden 8 --batch 8 --threads 1 --quiet --steps 1";
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--model flowpp --transformer affine", "flowpp's couplings are logistic mixtures"},
      {"--model flowpp --additive", "--additive is for glow"},
      {"--model flowpp --bins 4", "--bins is for the spline transformer"},
      {"--model glow --attention-heads 2", "--attention-heads is for flowpp"},
      {"--model flowpp --attention-heads 65", "--attention-heads"},
  };
  for (const Case& c : cases) {
    const BinaryRun r = run_flowzoo("train " + c.args + toy + " --out " + out, scratch);
    INFO(c.args << ": " << r.err);
    check_flag_refused(r, c.message, out);
  }
  // Images only: one line naming flowpp, nothing written.
  const BinaryRun r = run_flowzoo("train --model flowpp" + toy + " --out " + out, scratch);
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK(r.err.find("flowpp") != std::string::npos);
  CHECK(count_lines(r.err) == 1);
  CHECK(!fs::exists(out + "/checkpoint.safetensors"));
}
