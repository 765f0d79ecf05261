// tests/cli/test_coupling_checkpoints.cpp — checkpoints written before the couplings were
// rebuilt from parts (flows/bijectors/coupling.hpp) still load, under the same parameter names,
// and give the log_prob they gave then.
//
// The fixtures in tests/cli/coupling_checkpoints/ were written at commit 2794924 (the
// per-family AdditiveCoupling / AffineCoupling / GlowCoupling classes) by
//   flowzoo train <flags> --steps 2 --seed 7 --threads 1 --eval-every 0 --sample-every 0
//                 --final-eval-limit 16 --quiet --out <name>
// with <flags> as listed in kFixtures (image models on Fashion-MNIST, 2-D models on moons),
// and the expected log_probs were printed by this file (FZ_PRINT_COUPLING_EXPECTED=1) at that
// commit: log_prob of 3 fixed inputs per model, in eval mode (the Polyak averages are off).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/loaded_run.hpp"

using namespace fz;

namespace {

struct CheckpointFixture {
  std::string name;   // <name>.safetensors
  std::string flags;  // how it was trained (documentation)
  double lo, hi;      // range of the inputs scored (inside the preprocessing's domain)
  std::vector<double> log_prob;
};

// Recorded at commit 2794924 (see the header comment).
const std::vector<CheckpointFixture> kFixtures = {
    {"nice_img", "--model nice --hidden 4 --blocks 1 --batch 8", 0, 1, {-1196.18994, -1196.7843, -1206.79492}},
    {"realnvp_img", "--model realnvp --levels 1 --hidden 4 --blocks 1 --batch 8", 0.02, 0.98, {-31.9592285, -60.161377, -32.2072754}},
    {"glow_img", "--model glow --levels 2 --steps-per-level 2 --hidden 8 --batch 8", 0, 1, {-536.085754, -553.892944, -465.410645}},
    {"glow_add_img", "--model glow --levels 2 --steps-per-level 2 --hidden 8 --additive --plain-1x1 --learn-top --batch 8", 0, 1, {-578.889282, -596.921631, -502.710449}},
    {"nice_toy", "--model nice --dataset toy --hidden 8 --couplings 4 --batch 64", -2, 2, {-3.07965422, -4.69141293, -3.13206673}},
    {"realnvp_toy", "--model realnvp --dataset toy --hidden 8 --couplings 4 --batch 64", -2, 2, {-3.16197062, -3.40063477, -1.90722847}},
    {"glow_toy", "--model glow --dataset toy --hidden 8 --steps-per-level 3 --batch 64", -2, 2, {-4.82966423, -11.874897, -2.80612636}},
};

std::vector<double> score(const CheckpointFixture& f) {
  const cli::LoadedRun run = cli::load_run(std::string(FZ_COUPLING_FIXTURES) + "/" + f.name + ".safetensors", 3);
  Rng rng(99);
  Shape shape = {3};
  const Shape& event = run.info.config.model.event_shape;
  shape.insert(shape.end(), event.begin(), event.end());
  const Tensor<float> x = rng.uniform<float>(shape, f.lo, f.hi);
  NoGradGuard no_grad;
  const Tensor<float> lp = run.model->log_prob(Var<float>(x)).value();
  return {lp[0], lp[1], lp[2]};
}

}  // namespace

TEST_CASE("coupling checkpoints: runs saved by the per-family coupling classes load and give the "
          "same log_prob", "[cli][coupling-checkpoints]") {
  if (std::getenv("FZ_PRINT_COUPLING_EXPECTED")) {
    for (const CheckpointFixture& f : kFixtures) {
      const std::vector<double> lp = score(f);
      std::printf("    {\"%s\", \"%s\", %g, %g, {%.9g, %.9g, %.9g}},\n", f.name.c_str(), f.flags.c_str(), f.lo, f.hi,
                  lp[0], lp[1], lp[2]);
    }
    return;
  }
  for (const CheckpointFixture& f : kFixtures) {
    SECTION(f.name) {
      const std::vector<double> got = score(f);
      for (std::size_t i = 0; i < 3; ++i) {
        INFO(f.name << " sample " << i << ": " << got[i] << ", recorded " << f.log_prob[i]);
        CHECK(std::abs(got[i] - f.log_prob[i]) <= 1e-5 * std::max(1.0, std::abs(f.log_prob[i])));
      }
    }
  }
}
