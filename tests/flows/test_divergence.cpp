// tests/flows/test_divergence.cpp — divergence recovery (flows/divergence_guard.hpp,
// flows/train_snapshot.hpp, flows/trainer.cpp): the spike rule, bit-exact rollback, poisoned
// batches, a huge learning rate, the recovery budget, the stop policy, and Polyak averages
// that start from ActNorm's initialised values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/grad_mode.hpp"
#include "flows/divergence_guard.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/presets.hpp"
#include "flows/train_snapshot.hpp"
#include "flows/trainer.hpp"
#include "tensor/memory_counter.hpp"
#include "tests/flows/tiny_presets.hpp"

using namespace fz;

namespace {

std::shared_ptr<FlowModel<float>> toy_model(std::uint64_t seed) {
  Rng rng(seed);
  PresetConfig toy;
  toy.model = "realnvp";
  toy.event_shape = {2};
  toy.couplings = 4;
  toy.hidden = 16;
  return make_flow<float>(toy, rng);
}

// Tiny Glow on 1x4x4 images: ActNorm (a data-dependent initialisation and a persistent
// "initialised" buffer), LU 1x1 convolutions, affine couplings.
std::shared_ptr<FlowModel<float>> tiny_glow(std::uint64_t seed) {
  Rng rng(seed);
  return make_flow<float>(fz::testing::tiny_glow_config(), rng);
}

// A correlated Gaussian: x2 = 0.9 x1 + 0.3 eps.
Tensor<float> gaussian_batch(Rng& rng, std::size_t n) { return fz::testing::correlated_gaussian_batch(rng, n); }

TensorU8 random_pixels(Rng& rng, std::size_t n) {
  TensorU8 px({n, 1, 4, 4});
  for (auto& v : px) v = static_cast<std::uint8_t>(rng.uniform(0, 256));
  return px;
}

// Deep copies (state_dict() of a module shares its tensors).
StateDict<float> deep_copy(const StateDict<float>& s) {
  StateDict<float> out;
  for (const auto& [name, t] : s) out.insert(name, t.clone());
  return out;
}

// Bit-for-bit equality of two state dicts, entry by entry; `skip` names an entry not compared.
void require_identical(const StateDict<float>& a, const StateDict<float>& b, const std::string& skip = "") {
  REQUIRE(a.names() == b.names());
  for (const auto& [name, t] : a) {
    if (name == skip) continue;
    INFO(name);
    REQUIRE(t.to_vector() == b.at(name).to_vector());
  }
}

double test_nll(Trainer<float>& trainer, std::uint64_t seed) {
  Rng rng(seed);
  return trainer.evaluate_continuous(gaussian_batch(rng, 2000), 500);
}

}  // namespace

TEST_CASE("divergence: the spike rule fires on a blow-up, not on a noisy decreasing loss", "[flows][divergence]") {
  // A loss like early Glow training: a decaying trend, batch noise and occasional +0.6 bumps.
  LossSpikeRule rule(100, 10, 10.0, 1.0);
  Rng rng(5);
  std::vector<double> seen;
  for (int i = 0; i < 5000; ++i) {
    const double loss = 3.4 + 4.0 * std::exp(-i / 500.0) + 0.05 * rng.normal() + (i % 337 == 0 ? 0.6 : 0.0);
    INFO("step " << i << " loss " << loss << " threshold " << rule.threshold());
    REQUIRE_FALSE(rule.is_spike(loss));
    rule.accept(loss);
    seen.push_back(loss);
  }
  // The threshold is median + 10 MAD + 1 of the last 100 losses, computed independently here.
  std::vector<double> last(seen.end() - 100, seen.end());
  std::sort(last.begin(), last.end());
  const double median = 0.5 * (last[49] + last[50]);
  std::vector<double> dev;
  for (double x : last) dev.push_back(std::abs(x - median));
  std::sort(dev.begin(), dev.end());
  const double mad = 0.5 * (dev[49] + dev[50]);
  REQUIRE(rule.median() == Approx(median).epsilon(1e-12));
  REQUIRE(rule.mad() == Approx(mad).epsilon(1e-12));
  REQUIRE(rule.threshold() == Approx(median + 10 * mad + 1.0).epsilon(1e-12));
  // The blow-up of the diverging Glow run in issue 21 (3.4 bits/dim -> 66), and the edge.
  CHECK(rule.is_spike(66.0));
  CHECK(rule.is_spike(rule.threshold() + 1e-9));
  CHECK_FALSE(rule.is_spike(rule.threshold() - 1e-9));

  // Quiet until it has 10 losses.
  LossSpikeRule fresh(100, 10, 10.0, 1.0);
  for (int i = 0; i < 9; ++i) fresh.accept(2.0);
  CHECK_FALSE(fresh.armed());
  CHECK_FALSE(fresh.is_spike(1e30));
  fresh.accept(2.0);
  CHECK(fresh.armed());
  CHECK(fresh.threshold() == 3.0);  // MAD 0: median + floor
  CHECK(fresh.is_spike(3.5));
}

TEST_CASE("divergence: the recovery budget counts recoveries within a sliding window", "[flows][divergence]") {
  RecoveryBudget budget(2, 100);
  CHECK(budget.try_spend(10));
  CHECK(budget.try_spend(50));
  CHECK_FALSE(budget.try_spend(109));  // 10, 50 and 109 all lie within 100 steps
  CHECK(budget.try_spend(110));        // 10 left the window (110 - 100)
  CHECK(budget.recent() == std::vector<std::size_t>{50, 110});
  DivergenceOptions bad;
  bad.lr_factor = 1.0;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("lr_factor"));
  CHECK(divergence_policy_from("stop") == DivergencePolicy::Stop);
  CHECK_THROWS_AS(divergence_policy_from("ignore"), std::invalid_argument);
}

TEST_CASE("divergence: a snapshot restores parameters, buffers, optimiser state and averages bit for bit",
          "[flows][divergence]") {
  auto model = tiny_glow(3);
  TrainerOptions opt;
  opt.polyak_decay = 0.9;
  Trainer<float> trainer(model, opt, 1);
  Rng rng(8);
  TrainSnapshot<float> snap;
  // Before the first forward: ActNorm is not initialised yet (its buffer says 0).
  snap.capture(*model, trainer.optimizer(), trainer.ema(), 0);
  const StateDict<float> model0 = deep_copy(model->state_dict());
  const StateDict<float> optim0 = trainer.optimizer().state_dict(), ema0 = trainer.ema()->state_dict();
  for (int s = 0; s < 3; ++s) trainer.step_images(random_pixels(rng, 8));
  bool initialised_now = false;
  for (const auto& [name, t] : model->state_dict())
    if (name.find("initialised") != std::string::npos) initialised_now = t[0] != 0.0f;
  REQUIRE(initialised_now);
  REQUIRE(model->parameters()[0].value().to_vector() != model0.at(model->named_parameters()[0].first).to_vector());

  snap.restore(*model, trainer.optimizer(), trainer.ema());
  require_identical(model->state_dict(), model0);  // "initialised" buffers back to 0 as well
  require_identical(trainer.optimizer().state_dict(), optim0);
  require_identical(trainer.ema()->state_dict(), ema0);
  REQUIRE(trainer.optimizer().step_count() == 0);

  // A second capture reuses the snapshot's storage and still copies (not aliases) the live values.
  for (int s = 0; s < 2; ++s) trainer.step_images(random_pixels(rng, 8));
  snap.capture(*model, trainer.optimizer(), trainer.ema(), 2);
  const StateDict<float> model2 = deep_copy(model->state_dict());
  trainer.step_images(random_pixels(rng, 8));
  snap.restore(*model, trainer.optimizer(), trainer.ema());
  require_identical(model->state_dict(), model2);
  REQUIRE(snap.step() == 2);
  TrainSnapshot<float> empty;
  REQUIRE_THROWS_AS(empty.restore(*model, trainer.optimizer(), trainer.ema()), std::logic_error);
}

TEST_CASE("divergence: a NaN batch is skipped, the state rolled back, the learning rate halved",
          "[flows][divergence]") {
  auto model = toy_model(2);
  TrainerOptions opt;
  opt.lr = 3e-3;
  opt.polyak_decay = 0.9;
  opt.divergence.snapshot_every = 10;
  Trainer<float> trainer(model, opt, 1);
  Rng rng(4);
  const double before = test_nll(trainer, 99);
  for (int s = 0; s < 20; ++s) trainer.step_continuous(gaussian_batch(rng, 128));
  // The state after step 20 is what the next snapshot (taken before step 21's forward) holds.
  const StateDict<float> model20 = deep_copy(model->state_dict());
  const StateDict<float> optim20 = trainer.optimizer().state_dict(), ema20 = trainer.ema()->state_dict();
  for (int s = 0; s < 5; ++s) trainer.step_continuous(gaussian_batch(rng, 128));
  REQUIRE(trainer.last_good_snapshot().step() == 20);

  Tensor<float> poison = gaussian_batch(rng, 128);
  poison[7] = std::numeric_limits<float>::quiet_NaN();
  const StepStats stats = trainer.step_continuous(poison);
  CHECK(stats.event == "recovered:nonfinite_loss");
  CHECK(stats.step == 26);
  CHECK(std::isnan(stats.loss));
  CHECK(stats.message.find("rolled back to the state after step 20") != std::string::npos);
  CHECK(trainer.steps_done() == 26);  // the batch counts as consumed
  CHECK(trainer.lr_scale() == 0.5);
  CHECK(stats.lr == Approx(1.5e-3));
  require_identical(model->state_dict(), model20);
  require_identical(trainer.optimizer().state_dict(), optim20, "step");  // per-parameter counts: step 20's
  CHECK(trainer.optimizer().state_dict().at("step")[0] == 26.0f);
  require_identical(trainer.ema()->state_dict(), ema20);
  REQUIRE(Tape<float>::current().size() == 0);

  // Training goes on at the lowered rate and still learns.
  for (int s = 0; s < 150; ++s) {
    const StepStats st = trainer.step_continuous(gaussian_batch(rng, 128));
    REQUIRE(st.event.empty());
    REQUIRE(std::isfinite(st.loss));
    REQUIRE(st.lr == Approx(1.5e-3));
  }
  const double after = test_nll(trainer, 99);
  CHECK(std::isfinite(after));
  CHECK(after < before - 0.5);

  // The recovery survives a checkpoint: the trainer state carries the learning-rate scale.
  Trainer<float> reloaded(model, opt, 1);
  reloaded.load_state_dict(trainer.state_dict());
  CHECK(reloaded.lr_scale() == 0.5);
  Trainer<float> old_checkpoint(model, opt, 1);
  old_checkpoint.load_state_dict(StateDict<float>());
  CHECK(old_checkpoint.lr_scale() == 1.0);
}

TEST_CASE("divergence: a loss spike from an outlier batch is rolled back like a NaN", "[flows][divergence]") {
  auto model = toy_model(6);
  TrainerOptions opt;
  opt.lr = 3e-3;
  Trainer<float> trainer(model, opt, 1);
  Rng rng(9);
  for (int s = 0; s < 40; ++s) REQUIRE(trainer.step_continuous(gaussian_batch(rng, 128)).event.empty());
  const StateDict<float> model40 = deep_copy(model->state_dict());
  Tensor<float> outlier = gaussian_batch(rng, 128);
  for (auto& v : outlier) v *= 1000.0f;  // finite, but a NLL hundreds of nats above the usual ~1
  const StepStats stats = trainer.step_continuous(outlier);
  CHECK(stats.event == "recovered:loss_spike");
  CHECK(std::isfinite(stats.loss));
  CHECK(stats.loss > trainer.spike_rule().threshold());
  // Snapshots come every 100 steps, so the last good one is from before step 1: the rollback
  // went there (the parameters are not those of step 40), it did not just skip the batch.
  CHECK(trainer.last_good_snapshot().step() == 0);
  CHECK(model->parameters()[0].value().to_vector() != model40.at(model->named_parameters()[0].first).to_vector());
  CHECK(trainer.steps_done() == 41);
}

TEST_CASE("divergence: a few steps at a huge learning rate are rolled back and training goes on",
          "[flows][divergence]") {
  auto model = toy_model(11);
  TrainerOptions opt;
  opt.lr = 3e-3;
  opt.divergence.snapshot_every = 10;
  Trainer<float> trainer(model, opt, 1);
  Rng rng(12);
  const double before = test_nll(trainer, 99);
  double at30 = 0;
  for (int s = 0; s < 40; ++s) {
    REQUIRE(trainer.step_continuous(gaussian_batch(rng, 128)).event.empty());
    if (s == 29) at30 = test_nll(trainer, 99);
  }
  const double trained = test_nll(trainer, 99);
  // Three steps at lr 10 (Adam moves every parameter by ~10 a step) push the shared model far
  // off: the loss is astronomically large or not finite at all.
  TrainerOptions wild;
  wild.lr = 10.0;
  wild.divergence.policy = DivergencePolicy::Stop;
  Trainer<float> blow_up(model, wild, 2);
  for (int s = 0; s < 3; ++s) {
    try {
      blow_up.step_continuous(gaussian_batch(rng, 128));
    } catch (const NonFiniteError&) {
    }
  }
  REQUIRE(!(test_nll(trainer, 99) < trained + 100));  // diverged (or NaN)
  // The guarded trainer sees the damage at its next step. Step 41 is a snapshot step, but its
  // copy (of the damaged state) is never promoted: the rollback goes to the last good snapshot,
  // the state after step 30. Then it halves its rate and trains on.
  const StepStats hit = trainer.step_continuous(gaussian_batch(rng, 128));
  CHECK(hit.event.rfind("recovered:", 0) == 0);
  CHECK(hit.message.find("rolled back to the state after step 30") != std::string::npos);
  CHECK(test_nll(trainer, 99) == Approx(at30).epsilon(1e-6));
  for (int s = 0; s < 100; ++s) {
    const StepStats st = trainer.step_continuous(gaussian_batch(rng, 128));
    REQUIRE(st.event.empty());
    REQUIRE(std::isfinite(st.loss));
  }
  for (const Var<float>& p : model->parameters())
    for (float v : p.value()) REQUIRE(std::isfinite(v));
  const double after = test_nll(trainer, 99);
  CHECK(after < trained);
  CHECK(after < before - 0.5);
}

TEST_CASE("divergence: past the recovery budget the run stops, back at the last good state",
          "[flows][divergence]") {
  auto model = toy_model(2);
  TrainerOptions opt;
  opt.divergence.max_recoveries = 3;
  Trainer<float> trainer(model, opt, 1);
  Rng rng(4);
  for (int s = 0; s < 5; ++s) trainer.step_continuous(gaussian_batch(rng, 64));
  Tensor<float> poison = gaussian_batch(rng, 64);
  poison[0] = std::numeric_limits<float>::infinity();
  for (int r = 0; r < 3; ++r) REQUIRE(trainer.step_continuous(poison).event == "recovered:nonfinite_loss");
  REQUIRE(trainer.steps_done() == 8);
  REQUIRE_THROWS_AS(trainer.step_continuous(poison), NonFiniteError);
  REQUIRE_THROWS_WITH(trainer.step_continuous(poison), Catch::Contains("more than 3 recoveries within 1000 steps"));
  // Rolled back to the snapshot (the state before step 1), counters included.
  CHECK(trainer.steps_done() == 0);
}

TEST_CASE("divergence: the stop policy throws at the first non-finite loss, state untouched",
          "[flows][divergence]") {
  auto model = toy_model(2);
  TrainerOptions opt;
  opt.divergence.policy = DivergencePolicy::Stop;
  Trainer<float> trainer(model, opt, 1);
  Rng rng(4);
  for (int s = 0; s < 5; ++s) trainer.step_continuous(gaussian_batch(rng, 64));
  const StateDict<float> before = deep_copy(model->state_dict());
  Tensor<float> poison = gaussian_batch(rng, 64);
  poison[1] = std::numeric_limits<float>::quiet_NaN();
  REQUIRE_THROWS_WITH(trainer.step_continuous(poison), Catch::Contains("step 6") && Catch::Contains("nan"));
  require_identical(model->state_dict(), before);
  CHECK(trainer.steps_done() == 5);
  // Stop mode has no spike rule (today's behaviour): an outlier batch is trained on.
  for (int s = 0; s < 20; ++s) trainer.step_continuous(gaussian_batch(rng, 64));
  Tensor<float> outlier = gaussian_batch(rng, 64);
  for (auto& v : outlier) v *= 1000.0f;
  CHECK(trainer.step_continuous(outlier).event.empty());
}

TEST_CASE("polyak: right after ActNorm's initialisation the averaged and raw models agree", "[flows][divergence]") {
  // Issue 12: the averages were copied before the first forward, so every averaged ActNorm
  // started at 0 (bias) / 0 (log-scale) instead of its data-dependent initial value.
  auto model = tiny_glow(21);
  TrainerOptions opt;
  opt.lr = 1e-12;  // the first update barely moves the parameters
  opt.polyak_decay = 0.999;
  Trainer<float> trainer(model, opt, 1);
  Rng rng(22);
  const TensorU8 batch = random_pixels(rng, 16);
  trainer.step_images(batch);
  REQUIRE(trainer.ema()->num_updates() == 1);
  // Every shadow equals its parameter (to the update's 1e-12 steps).
  const auto named = model->named_parameters();
  bool actnorm_seen = false;
  for (std::size_t i = 0; i < named.size(); ++i) {
    INFO(named[i].first);
    const std::vector<float> p = named[i].second.value().to_vector(), s = trainer.ema()->shadows()[i].to_vector();
    for (std::size_t k = 0; k < p.size(); ++k) REQUIRE(s[k] == Approx(p[k]).margin(1e-6));
    if (named[i].first.find("actnorm") != std::string::npos || named[i].first.find("act_norm") != std::string::npos) {
      actnorm_seen = true;
      bool nonzero = false;
      for (float v : p) nonzero = nonzero || v != 0.0f;
      CHECK(nonzero);  // initialised from the data, so not the constructor's zeros
    }
  }
  CHECK(actnorm_seen);
  NoGradGuard no_grad;
  model->eval();
  Rng deq(23);
  const Tensor<float> x = dequantize<float>(random_pixels(deq, 16), deq);
  const Tensor<float> raw = model->log_prob(Var<float>(x)).value();
  Tensor<float> averaged;
  {
    EmaScope<float> use_averages(*trainer.ema());
    averaged = model->log_prob(Var<float>(x)).value();
  }
  for (std::size_t i = 0; i < raw.numel(); ++i) REQUIRE(averaged[i] == Approx(raw[i]).epsilon(1e-5));
  model->train();
}

TEST_CASE("divergence: the training state is held once more plus one copy of the parameters, as parameter state",
          "[flows][divergence][memory-counter]") {
  const TensorMemoryCountingScope counting;
  const std::size_t base = tensor_memory().live[MemoryKind::parameter_state];
  {
    auto model = toy_model(7);
    TrainerOptions opt;
    opt.polyak_decay = 0.9;
    opt.divergence.snapshot_every = 1;  // a model-half candidate at every step
    Trainer<float> trainer(model, opt, 1);
    Rng rng(8);
    for (int s = 0; s < 3; ++s) trainer.step_continuous(gaussian_batch(rng, 64));
    auto bytes = [](const StateDict<float>& s, bool scalars) {
      std::size_t n = 0;
      for (const auto& entry : s)
        if (scalars || entry.second.dim() > 0) n += entry.second.nbytes();
      return n;
    };
    std::size_t grads = 0;
    for (const Var<float>& p : model->parameters()) grads += p.grad().defined() ? p.grad().nbytes() : 0;
    CHECK(grads > 0);
    const std::size_t live = bytes(model->state_dict(), true) + grads + bytes(trainer.optimizer().state_view(), false) +
                             bytes(trainer.ema()->state_view(), false);
    // The last good snapshot: all of it again, with the step counts its copy keeps as scalars;
    // the candidate: the model half only.
    const std::size_t snapshot = bytes(model->state_dict(), true) + bytes(trainer.optimizer().state_view(), true) +
                                 bytes(trainer.ema()->state_view(), true);
    const std::size_t candidate = bytes(model->state_dict(), true);
    CHECK(tensor_memory().live[MemoryKind::parameter_state] - base == live + snapshot + candidate);
  }
  CHECK(tensor_memory().live[MemoryKind::parameter_state] == base);  // all released with the trainer
}
