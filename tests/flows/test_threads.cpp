// tests/flows/test_threads.cpp — training with 1 and with 2 threads, through the library's
// Trainer, on models just large enough that the kernels really split their work (activations
// above tensor/parallel.hpp's kParallelGrain, products above GEMM's threading threshold):
// every parameter after a few steps, compared across thread counts.
//
// What the design promises (../shared/DESIGN.md, tensor/parallel.hpp): every reduction is
// deterministic for a fixed thread count. Most kernels go further — chunk boundaries depend
// only on the sizes (tensor/reduce.hpp, broadcast sums, gemm_dots, the GEMM's per-element K
// order, per-channel sums combined in batch order) — so their results do not depend on the
// thread count at all, and neither does a whole training step: the test asserts bit-identical
// parameters. (It found the one exception: the Adam update ran the scalar form of its formula
// on the tail of every thread's chunk, and the scalar form rounds differently from the SIMD
// form, so NICE's large weights came out different in the last bits at 2 threads from the
// second step on; autograd/optim/adam.cpp now hands threads whole vectors.)
//
// Only the general (non-"same") convolution path splits its weight gradient per thread chunk
// (tensor/conv2d.cpp) and is deterministic per thread count only; no preset uses it.
#include <catch2/catch.hpp>

#include <cmath>

#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "tensor/parallel.hpp"

using namespace fz;

namespace {

struct ThreadCase {
  const char* name;
  PresetConfig config;
  std::size_t batch;
};

std::vector<ThreadCase> thread_cases() {
  std::vector<ThreadCase> out;
  PresetConfig glow;
  glow.model = "glow";
  glow.event_shape = {1, 28, 28};
  glow.levels = 2;
  glow.steps_per_level = 2;
  glow.hidden = 128;
  out.push_back({"glow 28x28, hidden 128", glow, 8});
  PresetConfig realnvp;
  realnvp.model = "realnvp";
  realnvp.event_shape = {1, 28, 28};
  realnvp.levels = 1;
  realnvp.couplings = 2;
  realnvp.hidden = 32;
  realnvp.blocks = 1;
  out.push_back({"realnvp 28x28, hidden 32", realnvp, 8});
  PresetConfig nice;
  nice.model = "nice";
  nice.event_shape = {1, 28, 28};
  nice.hidden = 1000;
  nice.blocks = 2;
  nice.couplings = 2;
  out.push_back({"nice 28x28, hidden 1000", nice, 64});
  return out;
}

// Parameters after `steps` training steps on fixed random pixels, at `threads` threads.
std::vector<Tensor32> train_params(const ThreadCase& c, int threads, std::size_t steps) {
  set_num_threads(threads);
  Rng init(11);
  auto model = make_flow<float>(c.config, init);
  Trainer<float> trainer(model, TrainerOptions{}, 11);
  Rng data(12);
  Shape shape{c.batch};
  shape.insert(shape.end(), c.config.event_shape.begin(), c.config.event_shape.end());
  TensorU8 pixels(shape);
  for (auto& v : pixels) v = static_cast<std::uint8_t>(data.below(256));
  for (std::size_t s = 0; s < steps; ++s) trainer.step_images(pixels);
  std::vector<Tensor32> out;
  for (const Var32& p : model->parameters()) out.push_back(p.value().clone());
  set_num_threads(0);
  return out;
}

}  // namespace

TEST_CASE("threads: 1 and 2 threads train to the same parameters", "[flows][threads]") {
  for (const ThreadCase& c : thread_cases()) {
    SECTION(c.name) {
      const auto one = train_params(c, 1, 3), two = train_params(c, 2, 3);
      REQUIRE(one.size() == two.size());
      std::size_t differing = 0;
      double worst = 0;
      for (std::size_t i = 0; i < one.size(); ++i) {
        if (one[i].to_vector() != two[i].to_vector()) ++differing;
        for (std::size_t j = 0; j < one[i].numel(); ++j)
          worst = std::max(worst, std::abs(double(one[i][j]) - double(two[i][j])));
      }
      INFO(c.name << ": " << differing << " of " << one.size() << " parameter tensors differ, max |diff| "
                  << worst);
      CHECK(differing == 0);
      CHECK(worst == 0.0);
    }
  }
}
