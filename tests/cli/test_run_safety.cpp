// tests/cli/test_run_safety.cpp — a run is never lost: an old run in --out is refused or moved
// aside (--force), one training per folder (flock, the holder's PID named), stale temporary
// checkpoints cleared, no checkpoint from non-finite state, --resume refuses architecture
// changes; SIGTERM and SIGINT stop cleanly at every phase (start, step loop, final evaluation).
// Through the real binary wherever it is CLI behaviour.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "cli/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli/finite_state.hpp"
#include "cli/run_folder.hpp"
#include "cli_helpers.hpp"
#include "cli_process.hpp"
#include "datasets/toy2d.hpp"
#include "flows/presets.hpp"

using namespace fz;
using namespace fz::cli;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return fz::test::fresh_temp_path("safety", name); }

using fz::test::count_lines;
using fz::test::slurp;

// The toy realnvp of the other CLI tests: couplings 2, hidden 8, batch 32, one thread.
std::vector<std::string> toy_args(const std::string& out, std::size_t steps) {
  return {"train", "--model", "realnvp", "--dataset", "toy", "--couplings", "2", "--hidden", "8",
          "--batch", "32", "--threads", "1", "--sample-every", "0", "--steps", std::to_string(steps),
          "--out", out};
}

fz::test::ChildResult run(std::vector<std::string> args, const std::vector<std::string>& more = {}) {
  args.insert(args.end(), more.begin(), more.end());
  fz::test::FlowzooChild c = fz::test::spawn_flowzoo(args, temp_dir("stderr.txt"));
  return fz::test::finish_flowzoo(c);
}

}  // namespace

TEST_CASE("run safety: train into a folder holding a run refuses; --force moves the old run aside", "[cli][safety]") {
  const std::string out = temp_dir("existing");
  REQUIRE(run(toy_args(out, 6)).exit_code == kExitOk);
  const std::string ckpt = slurp(out + "/checkpoint.safetensors"), metrics = slurp(out + "/metrics.csv");

  const fz::test::ChildResult refused = run(toy_args(out, 2));
  CHECK(refused.exit_code == kExitBadFlag);
  CHECK(count_lines(refused.err) == 1);
  CHECK_THAT(refused.err, Catch::Contains(out) && Catch::Contains("--resume") && Catch::Contains("--force"));
  // Nothing of the old run was touched.
  CHECK(slurp(out + "/checkpoint.safetensors") == ckpt);
  CHECK(slurp(out + "/metrics.csv") == metrics);

  const fz::test::ChildResult forced = run(toy_args(out, 2), {"--force"});
  REQUIRE(forced.exit_code == kExitOk);
  CHECK(read_checkpoint_info(out + "/checkpoint.safetensors").step == 2);
  // The old run is in the sibling folder the message names, whole.
  const std::string marker = "' to '";
  const auto at = forced.err.find(marker);
  REQUIRE(at != std::string::npos);
  const std::string moved = forced.err.substr(at + marker.size(), forced.err.find('\'', at + marker.size()) - at - marker.size());
  INFO(forced.err);
  CHECK(fs::path(moved).parent_path() == fs::path(out).parent_path());
  CHECK(fs::path(moved).filename().string().rfind(fs::path(out).filename().string() + ".old-", 0) == 0);
  CHECK(slurp(moved + "/checkpoint.safetensors") == ckpt);
  CHECK(slurp(moved + "/metrics.csv") == metrics);
  CHECK(fs::exists(moved + "/config.json"));
  CHECK(fz::test::metric_rows(out + "/metrics.csv") == 2);

  // --force with --resume is a contradiction.
  CHECK(run(toy_args(out, 2), {"--force", "--resume"}).exit_code == 2);
  fs::remove_all(out);
  fs::remove_all(moved);
}

TEST_CASE("run safety: a second train on a locked folder refuses at once, naming the PID", "[cli][safety]") {
  const std::string out = temp_dir("locked");
  {
    const RunFolderLock held(out);  // this test process plays the first training
    REQUIRE(slurp(out + "/" + kRunLockFile) == std::to_string(::getpid()) + "\n");
    const auto t0 = std::chrono::steady_clock::now();
    const fz::test::ChildResult second = run(toy_args(out, 2));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(second.exit_code == kExitError);
    CHECK(count_lines(second.err) == 1);
    CHECK_THAT(second.err, Catch::Contains("PID " + std::to_string(::getpid())) && Catch::Contains(out));
    CHECK(seconds < 5);
    CHECK_FALSE(fs::exists(out + "/metrics.csv"));  // it refused before writing anything
    CHECK_THROWS_WITH(RunFolderLock(out), Catch::Contains("in use"));  // also within one process
  }
  // Released: the folder is usable again.
  CHECK(run(toy_args(out, 2)).exit_code == kExitOk);

  // Two real trainings: the second refuses naming the first's PID; the first is unharmed.
  const std::string two = temp_dir("locked_two");
  fz::test::FlowzooChild first = fz::test::spawn_flowzoo(toy_args(two, 100000000), temp_dir("first_stderr.txt"));
  REQUIRE(fz::test::wait_for_output(first, "training: step loop started"));
  const fz::test::ChildResult second = run(toy_args(two, 2), {"--force"});
  INFO(second.err);
  CHECK(second.exit_code == kExitError);
  CHECK_THAT(second.err, Catch::Contains("PID " + std::to_string(first.pid)));
  ::kill(first.pid, SIGTERM);
  const fz::test::ChildResult r = fz::test::finish_flowzoo(first);
  CHECK(r.exit_code == kExitTerminated);
  CHECK(fz::test::metric_rows(two + "/metrics.csv") == read_checkpoint_info(two + "/checkpoint.safetensors").step);
  fs::remove_all(out);
  fs::remove_all(two);
}

TEST_CASE("run safety: stale temporary checkpoints are removed when the folder is next locked", "[cli][safety]") {
  const std::string out = temp_dir("stale");
  REQUIRE(run(toy_args(out, 3)).exit_code == kExitOk);
  for (const char* name : {"checkpoint.safetensors.tmp", "checkpoint.safetensors.tmp.999999999", "config.json.tmp"})
    std::ofstream(out + "/" + name) << "left by a kill -9";
  std::ofstream(out + "/notes.txt") << "not ours";
  std::ofstream(out + "/metrics.csv", std::ios::app) << "3,0.01";  // a row cut by the kill
  std::ofstream(out + "/metrics.csv", std::ios::app) << "\ngarbage\n";
  const fz::test::ChildResult resumed = run(toy_args(out, 5), {"--resume"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == kExitOk);
  CHECK(fz::test::metric_rows(out + "/metrics.csv") == 5);  // the cut and garbage rows dropped
  for (const auto& e : fs::directory_iterator(out)) {
    INFO(e.path());
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  }
  CHECK(fs::exists(out + "/notes.txt"));
  // The library reports what it removed.
  std::ofstream(out + "/checkpoint.safetensors.tmp.1") << "x";
  const RunFolderLock lock(out);
  CHECK(lock.removed_temporaries() == std::vector<std::string>{"checkpoint.safetensors.tmp.1"});
  fs::remove_all(out);
}

TEST_CASE("run safety: non_finite_state names NaN or inf in parameters, optimiser moments, loss", "[cli][safety]") {
  PresetConfig pc;
  pc.model = "realnvp";
  pc.event_shape = {2};
  pc.couplings = 2;
  pc.hidden = 8;
  Rng rng(1);
  auto model = make_flow<float>(resolve_preset(pc), rng);
  Trainer<float> trainer(model, TrainerOptions{}, 1);
  trainer.step_continuous(sample_toy2d<float>(toy2d_from_name("moons"), 32, 5));
  CHECK(non_finite_state(trainer, 1.5).empty());
  CHECK_THAT(non_finite_state(trainer, std::numeric_limits<double>::infinity()), Catch::Contains("loss is inf"));

  // Trainer::evaluate_continuous asks `stop` between batches: NaN once it says stop, the
  // same number as without it otherwise.
  const Tensor<float> x = sample_toy2d<float>(toy2d_from_name("moons"), 64, 6);
  const double plain = trainer.evaluate_continuous(x, 16);
  CHECK(std::isfinite(plain));
  CHECK(trainer.evaluate_continuous(x, 16, [] { return false; }) == plain);
  int asked = 0;
  CHECK(std::isnan(trainer.evaluate_continuous(x, 16, [&] { return ++asked > 2; })));
  CHECK(asked == 3);  // two batches done, stopped before the third

  // Finite but overflowing parameters: non_finite_log_prob catches what the scan cannot.
  CHECK(non_finite_log_prob(trainer, x).empty());
  {
    auto other = make_flow<float>(resolve_preset(pc), rng);
    Trainer<float> overflowing(other, TrainerOptions{}, 1);
    overflowing.step_continuous(x);
    for (const auto& [name, t] : overflowing.model().state_dict()) {
      Tensor<float> shared = t;  // state_dict shares the parameters' buffers
      for (std::size_t i = 0; i < shared.numel(); ++i) shared[i] = 1e30f;
    }
    CHECK(non_finite_state(overflowing, 1.5).empty());
    CHECK_THAT(non_finite_log_prob(overflowing, x), Catch::Contains("log-density (raw parameters) of row 0"));
  }

  // An infinite Adam moment (g^2 overflowing float while the norm in double stays finite).
  StateDict<float> optim;
  bool poisoned = false;
  for (const auto& [name, t] : trainer.optimizer().state_dict()) {
    Tensor<float> v = t.clone();
    if (!poisoned && t.numel() > 1) {
      v[1] = std::numeric_limits<float>::infinity();
      poisoned = true;
    }
    optim.insert(name, v);
  }
  REQUIRE(poisoned);
  trainer.optimizer().load_state_dict(optim);
  CHECK_THAT(non_finite_state(trainer, 1.5), Catch::Contains("optimiser state optim.") && Catch::Contains("inf"));

  // A NaN parameter is named before anything else (state_dict shares the parameter's buffer).
  Tensor<float> p = trainer.model().state_dict().begin()->second;
  p[0] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THAT(non_finite_state(trainer, 1.5),
             Catch::Contains("model tensor model." + trainer.model().state_dict().begin()->first) &&
                 Catch::Contains("nan"));
}

TEST_CASE("run safety: a diverging run keeps the last finite checkpoint and names its step", "[cli][safety]") {
  // SGD at lr 10 overflows the toy model within a few steps; a checkpoint after every step.
  // --on-divergence stop: the first bad state ends the run (recovery has its own tests).
  const std::string out = temp_dir("diverge");
  const fz::test::ChildResult r =
      run(toy_args(out, 50), {"--optimizer", "sgd", "--lr", "10", "--checkpoint-seconds", "1e-9", "--on-divergence", "stop"});
  INFO(r.err);
  REQUIRE(r.exit_code == kExitDiverged);
  CHECK(count_lines(r.err) == 1);
  REQUIRE(fs::exists(out + "/checkpoint.safetensors"));
  const std::size_t kept = read_checkpoint_info(out + "/checkpoint.safetensors").step;
  CHECK_THAT(r.err, Catch::Contains("last finite checkpoint (step " + std::to_string(kept) + ")"));
  // What is on disk evaluates to a finite number (eval --json prints null otherwise).
  fz::test::FlowzooChild e = fz::test::spawn_flowzoo(
      {"eval", "--checkpoint", out + "/checkpoint.safetensors", "--json"}, temp_dir("eval_stderr.txt"));
  const fz::test::ChildResult ev = fz::test::finish_flowzoo(e);
  INFO(ev.out);
  CHECK(ev.out.find("\"nll_nats\":null") == std::string::npos);
  CHECK(ev.out.find("\"nll_nats\":") != std::string::npos);
  fs::remove_all(out);

  // Diverging before the first checkpoint: no file is named that does not exist.
  const fz::test::ChildResult none = run(toy_args(out, 50), {"--optimizer", "sgd", "--lr", "10", "--on-divergence", "stop"});
  INFO(none.err);
  CHECK(none.exit_code == kExitDiverged);
  CHECK_FALSE(fs::exists(out + "/checkpoint.safetensors"));
  CHECK_THAT(none.err, Catch::Contains("no checkpoint was written yet"));
  CHECK(none.err.find("checkpoint.safetensors") == std::string::npos);
  fs::remove_all(out);
}

TEST_CASE("run safety: --resume refuses changed architecture flags and warns for applied ones", "[cli][safety]") {
  const std::string out = temp_dir("resume_flags");
  REQUIRE(run(toy_args(out, 3)).exit_code == kExitOk);
  const std::string ckpt = slurp(out + "/checkpoint.safetensors");
  // toy_args gives --couplings 2 --hidden 8; the changed ones follow (CLI11 keeps the last).
  std::vector<std::string> changed = {"train", "--resume", "--out", out, "--hidden", "16", "--couplings", "3",
                                      "--density", "circles", "--steps", "5"};
  const fz::test::ChildResult refused = run(changed);
  INFO(refused.err);
  CHECK(refused.exit_code == kExitBadFlag);
  CHECK(count_lines(refused.err) == 1);
  CHECK_THAT(refused.err, Catch::Contains("--hidden saved 8, given 16") && Catch::Contains("--couplings saved 2, given 3") &&
                              Catch::Contains("--density saved 'moons', given 'circles'"));
  CHECK(slurp(out + "/checkpoint.safetensors") == ckpt);

  // Same architecture, new optimisation flags: applied, one warning line each.
  const fz::test::ChildResult applied =
      run({"train", "--resume", "--out", out, "--hidden", "8", "--model", "realnvp", "--lr", "0.0005", "--threads", "2",
           "--steps", "5"});  // not --quiet: that silences the warnings too
  INFO(applied.err);
  CHECK(applied.exit_code == kExitOk);
  CHECK_THAT(applied.err, Catch::Contains("--lr 0.0005 replaces the saved 0.001") &&
                              Catch::Contains("--threads 2 replaces the saved 1") &&
                              Catch::Contains("--steps 5 replaces the saved --steps 3"));
  CHECK(count_lines(applied.err) == 3);
  CHECK(read_checkpoint_info(out + "/checkpoint.safetensors").step == 5);
  CHECK(read_checkpoint_info(out + "/checkpoint.safetensors").config.train.lr == 0.0005);
  fs::remove_all(out);
}

TEST_CASE("run safety: SIGTERM in the step loop keeps a checkpoint and exits 143", "[cli][safety][signals]") {
  const std::string out = temp_dir("sigterm");
  fz::test::FlowzooChild child =
      fz::test::spawn_flowzoo(toy_args(out, 100000000), temp_dir("sigterm_stderr.txt"));
  REQUIRE(fz::test::wait_for_output(child, "training: step loop started"));
  for (int i = 0; i < 1200 && fz::test::metric_rows(out + "/metrics.csv") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto t0 = std::chrono::steady_clock::now();
  ::kill(child.pid, SIGTERM);
  const fz::test::ChildResult r = fz::test::finish_flowzoo(child);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.err);
  CHECK(r.exit_code == kExitTerminated);
  CHECK(seconds < 3);
  REQUIRE(fs::exists(out + "/checkpoint.safetensors"));
  const std::size_t step = read_checkpoint_info(out + "/checkpoint.safetensors").step;
  CHECK(step > 0);
  CHECK(fz::test::metric_rows(out + "/metrics.csv") == step);
  CHECK_THAT(r.out, Catch::Contains("terminated (SIGTERM) at step " + std::to_string(step)));
  fs::remove_all(out);
}

TEST_CASE("run safety: a signal before the step loop (data loading) stops the run cleanly", "[cli][safety][signals]") {
  // The child starts with SIGTERM blocked and the signal already pending, so it is delivered
  // the moment train installs its handler — before data loading. Fashion-MNIST makes the
  // loading phase real (~0.5 s).
  const std::string out = temp_dir("sigterm_early");
  const std::vector<std::string> long_run = {"train", "--model", "realnvp", "--dataset", "fashion-mnist", "--hidden",
                                             "8", "--blocks", "1", "--levels", "1", "--batch", "16", "--threads", "1",
                                             "--sample-every", "0", "--eval-every", "0", "--steps", "1000", "--out", out};
  fz::test::FlowzooChild child =
      fz::test::spawn_flowzoo(long_run, temp_dir("early_stderr.txt"), /*blocked_signals=*/true);
  ::kill(child.pid, SIGTERM);
  const fz::test::ChildResult r = fz::test::finish_flowzoo(child);
  INFO(r.err);
  INFO(r.out);
  CHECK(r.term_signal == 0);  // not killed by the default action
  CHECK(r.exit_code == kExitTerminated);
  REQUIRE(fs::exists(out + "/checkpoint.safetensors"));
  CHECK(read_checkpoint_info(out + "/checkpoint.safetensors").step == 0);
  CHECK(fz::test::metric_rows(out + "/metrics.csv") == 0);
  CHECK_THAT(r.out, Catch::Contains("terminated (SIGTERM) at step 0"));
  fs::remove_all(out);
}

TEST_CASE("run safety: a signal during the final evaluation stops it within a second", "[cli][safety][signals]") {
  // A tiny image model whose final evaluation over 10,000 test images takes seconds.
  const std::string out = temp_dir("sigint_final");
  fz::test::FlowzooChild child = fz::test::spawn_flowzoo(
      {"train", "--model", "realnvp", "--dataset", "fashion-mnist", "--hidden", "8", "--blocks", "1", "--levels", "1",
       "--batch", "16", "--threads", "1", "--sample-every", "0", "--eval-every", "0", "--steps", "1", "--out", out},
      temp_dir("final_stderr.txt"));
  REQUIRE(fz::test::wait_for_output(child, "training: final evaluation started"));
  const auto t0 = std::chrono::steady_clock::now();
  ::kill(child.pid, SIGINT);
  const fz::test::ChildResult r = fz::test::finish_flowzoo(child);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.err);
  INFO(r.out);
  CHECK(r.exit_code == kExitInterrupted);
  CHECK(seconds < 5);  // one evaluation batch of 256 images (~0.2 s), not the remaining 39 (~7 s)
  CHECK_THAT(r.out, Catch::Contains("during the final evaluation"));
  CHECK(r.out.find("done:") == std::string::npos);
  REQUIRE(fs::exists(out + "/checkpoint.safetensors"));
  CHECK(read_checkpoint_info(out + "/checkpoint.safetensors").step == 1);
  fs::remove_all(out);
}
