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
// (tensor/conv2d.cpp: one partial sum per chunk of images, added in chunk order) and is
// deterministic per thread count only; no preset uses it. Its test states the tolerance: each
// result is within K eps sum|dy x| of the exact sum (tests/tensor/float_reference.hpp), so two
// of them are within twice that of each other.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "tensor/conv2d.hpp"
#include "tensor/parallel.hpp"
#include "tests/tensor/float_reference.hpp"

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
  const testing::ThreadCount count(threads);
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
        REQUIRE(one[i].shape() == two[i].shape());
        if (std::memcmp(one[i].data(), two[i].data(), one[i].nbytes()) != 0) ++differing;  // bitwise
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

TEST_CASE("threads: the general convolution path agrees across thread counts within rounding",
          "[flows][threads]") {
  // Stride 2 (im2col + GEMM per image), a batch split into one chunk of images per thread.
  const testing::ConvGeom g{8, 16, 14, 14, 32, 3, 2, 1};
  Rng rng(21);
  const Tensor32 x = rng.uniform<float>(g.x_shape(), -1, 1), w = rng.uniform<float>(g.w_shape(), -1, 1);
  const Tensor32 dy = rng.uniform<float>(g.y_shape(), -1, 1);
  auto run = [&](int threads) {
    const testing::ThreadCount count(threads);
    auto grads = conv2d_backward(dy, x, w, g.stride, g.pad, ConvGradsWanted());
    Tensor32 y = conv2d(x, w, Tensor32(), g.stride, g.pad);
    return std::make_tuple(y, grads.input, grads.weight);
  };
  const auto [y1, dx1, dw1] = run(1);
  const auto [y2, dx2, dw2] = run(2);
  const auto [y2b, dx2b, dw2b] = run(2);
  // Forward and input gradient: one thread per output element, the same order: bit-identical.
  CHECK(y1.to_vector() == y2.to_vector());
  CHECK(dx1.to_vector() == dx2.to_vector());
  // Deterministic for a fixed thread count.
  CHECK(dw2.to_vector() == dw2b.to_vector());
  // Across thread counts: within twice the float rounding bound of the weight gradient's sum.
  const Tensor64 scale = testing::ref_conv_dw(testing::abs64(testing::to64(dy)),
                                              testing::abs64(testing::to64(x)), g);
  Tensor64 bound = scale.clone();
  for (auto& v : bound) v *= 2 * (double(g.positions()) + 1) * testing::kEpsF32;
  testing::require_within(dw2, testing::to64(dw1), bound, "weight gradient, 2 vs 1 threads");
}
