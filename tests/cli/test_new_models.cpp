// tests/cli/test_new_models.cpp — `--model nsf` and `--model maf` through every command: tiny
// runs on two moons and on a folder of 8x8 grey images (--steps 2), then eval, sample, inspect,
// density (2-D), latents (images), tape and profile on them; --resume continues them and
// refuses a changed --bins / --transformer; the transformer flags that do not fit the model are
// bad flags (exit 2, one line). Also `--transformer spline|mixture` on realnvp and glow.
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

const std::string kToyData = " --dataset toy --density moons --hidden 8 --batch 32 --threads 1 --quiet";
const std::string kToy = kToyData + " --steps 2";

// A folder of 12 grey 8x8 images (smooth gradients, so the images differ).
std::string image_folder() {
  const std::string dir = fresh_temp_path("new_models", "images");
  fs::create_directories(dir);
  for (int k = 0; k < 12; ++k) {
    std::vector<unsigned char> px(64);
    for (int i = 0; i < 64; ++i) px[i] = static_cast<unsigned char>((i * (k + 3) * 7) % 256);
    REQUIRE(stbi_write_png((dir + "/img" + std::to_string(k) + ".png").c_str(), 8, 8, 1, px.data(), 8) != 0);
  }
  return dir;
}

void require_ok(const BinaryRun& r, const std::string& what) {
  INFO(what << ": " << r.err);
  REQUIRE(r.status == 0);
}

}  // namespace

TEST_CASE("cli new models: nsf and maf (affine, spline) train on two moons, and eval, sample, "
          "inspect, density, tape and profile work on them", "[cli][new-models]") {
  const std::string scratch = fresh_temp_path("new_models", "scratch");
  struct Case {
    std::string name, base, sizes, transformer;
  };
  const Case cases[] = {{"nsf", "--model nsf --couplings 2", " --bins 5 --tail-bound 4", "spline"},
                        {"maf", "--model maf --couplings 2", "", "affine"},
                        {"maf_spline", "--model maf --couplings 2 --transformer spline", " --bins 6", "spline"}};
  for (const Case& k : cases) {
    struct {
      std::string name, flags, base, transformer;
    } c{k.name, k.base + k.sizes, k.base, k.transformer};
    INFO(c.name);
    const std::string out = fresh_temp_path("new_models", c.name);
    require_ok(run_flowzoo("train " + c.flags + kToy + " --out " + out, scratch), "train");
    const nlohmann::json model = read_json(out + "/config.json")["model"];
    CHECK(model["model"] == c.name.substr(0, 3));
    CHECK(model["transformer"] == c.transformer);
    CHECK(model["couplings"] == 2);
    CHECK(model["hidden"] == 8);
    if (c.name == "nsf") {
      CHECK(model["bins"] == 5);
      CHECK(model["tail_bound"] == 4.0);
    }
    if (c.name == "maf_spline") CHECK(model["bins"] == 6);
    const std::string ckpt = " --checkpoint " + out + "/checkpoint.safetensors";
    BinaryRun r = run_flowzoo("eval --limit 300" + ckpt, scratch);
    require_ok(r, "eval");
    CHECK(r.out.find("NLL") != std::string::npos);
    require_ok(run_flowzoo("sample --n 16" + ckpt + " --out " + out + "/s.png", scratch), "sample");
    CHECK(fs::file_size(out + "/s.png") > 100);
    r = run_flowzoo("inspect --limit 200" + ckpt, scratch);
    require_ok(r, "inspect");
    CHECK(!r.out.empty());
    require_ok(run_flowzoo("density --grid 12" + ckpt + " --out " + out + "/d.png --csv " + out + "/d.csv", scratch),
               "density");
    CHECK(lines_of(out + "/d.csv").size() == 12 * 12 + 1);
    // tape and profile build the same model from the same flags.
    const std::string study = " " + c.flags + " --dataset toy --hidden 8 --batch 16 --threads 1";
    r = run_flowzoo("tape" + study, scratch);
    require_ok(r, "tape");
    CHECK(r.out.find(c.name.substr(0, 3)) != std::string::npos);
    require_ok(run_flowzoo("profile --steps 1 --warmup 1" + study, scratch), "profile");

    // --resume continues (2 more steps), refuses a changed spline size or transformer.
    r = run_flowzoo("train " + c.flags + kToyData + " --steps 4 --out " + out + " --resume", scratch);
    require_ok(r, "resume");
    CHECK(metric_rows(out + "/metrics.csv") == 4);
    if (c.transformer == "spline") {
      r = run_flowzoo("train " + c.base + kToyData + " --bins 9 --steps 6 --out " + out + " --resume", scratch);
      CHECK(r.status == 2);
      CHECK(r.err.find("--bins saved") != std::string::npos);
      r = run_flowzoo("train " + c.base + kToyData + " --tail-bound 2.5 --steps 6 --out " + out + " --resume", scratch);
      CHECK(r.status == 2);
      CHECK(r.err.find("--tail-bound saved " + std::string(c.name == "nsf" ? "4" : "3") + ", given 2.5") !=
            std::string::npos);
    } else {
      r = run_flowzoo("train " + c.base + kToyData + " --transformer spline --steps 6 --out " + out + " --resume", scratch);
      CHECK(r.status == 2);
      CHECK(r.err.find("--transformer saved 'affine', given 'spline'") != std::string::npos);
    }
    fs::remove_all(out);
  }
}

TEST_CASE("cli new models: nsf (Glow skeleton, spline couplings) and maf (flattened) on 8x8 images, "
          "with eval, sample, inspect and latents", "[cli][new-models]") {
  const std::string scratch = fresh_temp_path("new_models", "scratch_images");
  const std::string data = image_folder();
  const std::string images = " --dataset folder --data-dir " + data + " --channels 1 --image-size 8 --hidden 8 "
                             "--batch 4 --threads 1 --quiet --steps 2 --sample-every 0 --eval-every 0";
  for (const std::string model : {"nsf --levels 2 --steps-per-level 1 --bins 4", "maf --couplings 1",
                                  "glow --levels 1 --steps-per-level 1 --transformer mixture --mixtures 2",
                                  "realnvp --levels 1 --couplings 1 --blocks 1 --transformer spline"}) {
    INFO(model);
    const std::string name = model.substr(0, model.find(' '));
    const std::string out = fresh_temp_path("new_models", "img_" + name);
    require_ok(run_flowzoo("train --model " + model + images + " --out " + out, scratch), "train");
    const nlohmann::json config = read_json(out + "/config.json")["model"];
    CHECK(config["model"] == name);
    if (name == "nsf") CHECK(config["bins"] == 4);
    const std::string ckpt = " --checkpoint " + out + "/checkpoint.safetensors";
    BinaryRun r = run_flowzoo("eval" + ckpt, scratch);
    require_ok(r, "eval");
    CHECK(r.out.find("bits/dim") != std::string::npos);
    require_ok(run_flowzoo("sample --n 4" + ckpt + " --out " + out + "/s.png", scratch), "sample");
    require_ok(run_flowzoo("inspect" + ckpt, scratch), "inspect");
    r = run_flowzoo("latents --n 2 --pairs 1 --steps 3 --temperatures 1" + ckpt + " --out " + out + "/latents", scratch);
    require_ok(r, "latents");
    r = run_flowzoo("density" + ckpt + " --out " + out + "/d.png", scratch);
    CHECK(r.status != 0);  // a 2-D command: a clear refusal on images
    CHECK(count_lines(r.err) == 1);
    fs::remove_all(out);
  }
  fs::remove_all(data);
}

TEST_CASE("cli new models: transformer flags that do not fit the model are bad flags (exit 2, one line)",
          "[cli][new-models]") {
  const std::string out = fresh_temp_path("new_models", "refused");
  const std::string scratch = fresh_temp_path("new_models", "scratch_refused");
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--model nsf --transformer affine", "nsf's couplings are splines"},
      {"--model maf --transformer mixture", "maf takes affine or spline"},
      {"--model maf --bins 8", "--bins is for the spline transformer"},
      {"--model realnvp --tail-bound 2", "--tail-bound is for the spline transformer"},
      {"--model glow --transformer spline --mixtures 3", "--mixtures is for the mixture transformer"},
      {"--model nice --bins 4", "--bins is for the spline transformer"},
      {"--model nsf --bins 1", "--bins"},
      {"--model nsf --bins 65", "--bins"},
      {"--model nsf --tail-bound 0", "--tail-bound"},
      {"--model nsf --tail-bound 101", "--tail-bound"},
      {"--model glow --transformer mixture --mixtures 0", "--mixtures"},
      {"--model glow --transformer mixture --mixtures 65", "--mixtures"},
      {"--model flowplus", "--model"},
  };
  for (const Case& c : cases) {
    const BinaryRun r = run_flowzoo("train " + c.args + kToy + " --out " + out, scratch);
    INFO(c.args << ": " << r.err);
    check_flag_refused(r, c.message, out);
  }
  // tape takes the same flags and refuses the same way.
  const BinaryRun r = run_flowzoo("tape --model maf --bins 8 --dataset toy --hidden 8 --batch 8", scratch);
  CHECK(r.status == 2);
  CHECK(r.err.find("--bins is for the spline transformer") != std::string::npos);
  fs::remove_all(out);
}
