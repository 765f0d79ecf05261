// tests/cli/test_train_recovery.cpp — `flowzoo train` and divergence: --on-divergence through the
// real binary (exit codes, the metrics.csv event column), recoveries carried across --resume,
// the per-family default recipe resolved into config.json, and old config.json files.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include "cli/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli_helpers.hpp"
#include "tensor/safetensors.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return fz::test::fresh_temp_path("recovery", name); }

using Run = fz::test::BinaryRun;
// The recoveries below are pinned step by step, so they run the default (fused) path whatever
// FZ_REFERENCE_OPS the test itself runs under: the plain forms round differently and diverge
// at other steps.
Run run_binary(const std::string& args) { return fz::test::run_flowzoo(args, temp_dir("io"), "FZ_REFERENCE_OPS=0"); }

using fz::test::count_containing;
using fz::test::lines_of;
using fz::test::read_json;

// A toy RealNVP at lr 10: Adam moves every parameter by ~10 a step, so the loss overflows.
const std::string kWildToy = "train --model realnvp --dataset toy --lr 10 --steps 40 --threads 1 --quiet";
// At lr 1 the same model diverges now and then: seed 0 recovers at steps 2, 4, 7, 17 and 20
// (one non-finite loss, two gradients large enough to overflow Adam's squared moments, two
// spikes) and finishes; at lr 2 it needs a sixth recovery by step 15.
const std::string kRoughToy = "train --model realnvp --dataset toy --lr 1 --steps 40 --threads 1 --quiet";
const std::string kWilderToy = "train --model realnvp --dataset toy --lr 2 --steps 40 --threads 1 --quiet";

}  // namespace

TEST_CASE("cli: --on-divergence stop exits 3 at the first non-finite loss, as before", "[cli][divergence]") {
  const std::string out = temp_dir("stop");
  const Run r = run_binary(kWildToy + " --seed 3 --on-divergence stop --out " + out);
  CHECK(r.status == kExitDiverged);
  CHECK(r.err.find("step 2: the loss is inf") != std::string::npos);
  const auto metrics = lines_of(out + "/metrics.csv");
  REQUIRE(metrics.size() == 2);  // header and step 1
  CHECK(metrics[0] == "step,wall_seconds,train_nll,lr,grad_norm,test_nll,event");
  CHECK(read_json(out + "/config.json")["training"]["on_divergence"] == "stop");
  fs::remove_all(out);
}

TEST_CASE("cli: recover (the default) rolls back, logs each recovery, and stops past its budget",
          "[cli][divergence]") {
  SECTION("recovers and finishes") {
    const std::string out = temp_dir("recover");
    const Run r = run_binary(kRoughToy + " --seed 0 --out " + out);
    REQUIRE(r.status == kExitOk);
    const auto metrics = lines_of(out + "/metrics.csv");
    REQUIRE(metrics.size() == 41);  // one row per step, recovered ones included
    CHECK(count_containing(metrics, ",recovered:") == 5);
    CHECK(count_containing(metrics, ",recovered:nonfinite_loss") == 1);
    CHECK(count_containing(metrics, ",recovered:nonfinite_grad") == 2);
    CHECK(count_containing(metrics, ",recovered:loss_spike") == 2);
    // A recovery row: step 2, the offending loss, the halved rate that follows.
    CHECK(metrics[2].rfind("2,", 0) == 0);
    CHECK(metrics[2].find("inf,0.5,nan,,recovered:nonfinite_loss") != std::string::npos);  // no gradient computed
    CHECK(metrics[3].find(",0.5,") != std::string::npos);  // step 3 runs at the halved rate
    CHECK(fs::exists(out + "/curve.png"));                 // the curve skips event rows
    CHECK(read_json(out + "/config.json")["training"]["on_divergence"] == "recover");
    fs::remove_all(out);
  }
  SECTION("a sixth divergence within 1000 steps stops the run with exit 3") {
    const std::string out = temp_dir("budget");
    const Run r = run_binary(kWilderToy + " --seed 0 --out " + out);
    CHECK(r.status == kExitDiverged);
    CHECK(r.err.find("more than 5 recoveries within 1000 steps") != std::string::npos);
    CHECK(count_containing(lines_of(out + "/metrics.csv"), ",recovered:") == 5);
    fs::remove_all(out);
  }
}

TEST_CASE("cli: recoveries are carried across --resume (same parameters as the run that never stopped)",
          "[cli][divergence]") {
  TrainRequest r;
  r.config.model.model = "realnvp";
  r.config.dataset = "toy";
  r.config.train.lr = 1.0;  // recoveries at steps 2, 4, 7, 17 and 20 (kRoughToy above): one at the split
  r.config.batch = 512;
  r.config.threads = 1;
  r.config.eval_every = 0;
  r.config.sample_every = 0;
  r.config.steps = 40;
  r.quiet = true;
  const std::string a = temp_dir("straight"), b = temp_dir("resumed");
  r.out_dir = a;
  REQUIRE(run_train(r) == kExitOk);
  r.out_dir = b;
  r.config.steps = 20;
  REQUIRE(run_train(r) == kExitOk);
  TrainRequest resume = r;
  resume.config.steps = 40;
  resume.resume = true;
  REQUIRE(run_train(resume) == kExitOk);
  const NamedTensors ta = load_safetensors(a + "/checkpoint.safetensors");
  const NamedTensors tb = load_safetensors(b + "/checkpoint.safetensors");
  REQUIRE(ta.f32.size() == tb.f32.size());
  bool trainer_state = false;
  for (std::size_t i = 0; i < ta.f32.size(); ++i) {
    INFO(ta.f32[i].first);
    REQUIRE(ta.f32[i].first == tb.f32[i].first);
    REQUIRE(ta.f32[i].second.to_vector() == tb.f32[i].second.to_vector());
    if (ta.f32[i].first == "trainer.recoveries") {
      trainer_state = true;
      CHECK(ta.f32[i].second[0] == 5.0f);
    }
  }
  CHECK(trainer_state);
  const auto metrics = lines_of(b + "/metrics.csv");
  CHECK(metrics.size() == 41);
  CHECK(count_containing(metrics, ",recovered:") == 5);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("cli: each family's default recipe is resolved and saved in config.json", "[cli][divergence]") {
  // The recipe itself.
  for (const char* m : {"glow", "realnvp", "nice"}) {
    INFO(m);
    const TrainingRecipe image = default_training_recipe(m, "fashion-mnist");
    CHECK(image.lr == 1e-3);
    CHECK(image.warmup_steps == 200);
    CHECK(image.clip_grad_norm == 50.0);
    const TrainingRecipe toy = default_training_recipe(m, "toy");
    CHECK(toy.lr == 1e-3);
    CHECK(toy.warmup_steps == 0);
    CHECK(toy.clip_grad_norm == 0.0);
  }
  // Through the binary: an image model without recipe flags gets the image recipe...
  const std::string img = temp_dir("recipe_image");
  Run r = run_binary("train --model nice --dataset fashion-mnist --hidden 8 --blocks 1 --steps 2 --threads 1 "
                     "--eval-every 0 --sample-every 0 --final-eval-limit 16 --quiet --out " + img);
  REQUIRE(r.status == kExitOk);
  nlohmann::json t = read_json(img + "/config.json")["training"];
  CHECK(t["lr"] == 1e-3);
  CHECK(t["warmup_steps"] == 200);
  CHECK(t["clip_grad_norm"] == 50.0);
  CHECK(t["on_divergence"] == "recover");
  CHECK(t["divergence"]["lr_factor"] == 0.5);
  fs::remove_all(img);
  // ... a toy model the toy recipe, and a flag the user gives wins over the recipe.
  const std::string toy = temp_dir("recipe_toy");
  r = run_binary("train --model realnvp --dataset toy --steps 2 --threads 1 --clip 5 --quiet --out " + toy);
  REQUIRE(r.status == kExitOk);
  t = read_json(toy + "/config.json")["training"];
  CHECK(t["lr"] == 1e-3);
  CHECK(t["warmup_steps"] == 0);
  CHECK(t["clip_grad_norm"] == 5.0);
  fs::remove_all(toy);
}

TEST_CASE("cli: a config.json from before divergence recovery still loads, with the defaults",
          "[cli][divergence]") {
  RunConfig c;
  c.train.divergence.policy = DivergencePolicy::Stop;
  c.train.divergence.max_recoveries = 7;
  c.train.divergence.spike_floor = 0.25;
  nlohmann::json j = to_json(c);
  const RunConfig back = run_config_from_json(j);
  CHECK(back.train.divergence.policy == DivergencePolicy::Stop);
  CHECK(back.train.divergence.max_recoveries == 7);
  CHECK(back.train.divergence.spike_floor == 0.25);
  j["training"].erase("on_divergence");
  j["training"].erase("divergence");
  const RunConfig old = run_config_from_json(j);
  const DivergenceOptions defaults;
  CHECK(old.train.divergence.policy == DivergencePolicy::Recover);
  CHECK(old.train.divergence.max_recoveries == defaults.max_recoveries);
  CHECK(old.train.divergence.spike_window == defaults.spike_window);
  CHECK(old.train.lr == c.train.lr);
  j["training"]["on_divergence"] = "ignore";
  CHECK_THROWS_WITH(run_config_from_json(j), Catch::Contains("unknown divergence policy 'ignore'"));
}
