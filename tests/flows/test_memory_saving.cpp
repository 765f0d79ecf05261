// tests/flows/test_memory_saving.cpp — the memory-saving modes of a Chain (flows/memory_saving.hpp)
// give the gradients of the normal mode, for the parameters and for the input, for every preset
// at a tiny size (tests/flows/tiny_presets.hpp): float64 within 1e-10 relative, float32 within
// 1e-4; and invertible mode reports its reconstruction error, which stays small.
// resflow's training-mode log-det is a random estimate (fresh probes on every call, so the
// recomputation draws different ones): it is compared in eval mode, where the log-det is exact.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/memory_saving.hpp"
#include "tensor/memory_counter.hpp"
#include "tests/flows/tiny_presets.hpp"

using namespace fz;
using namespace fz::testing;

namespace {

template <typename T>
struct Gradients {
  std::vector<Tensor<T>> params;
  Tensor<T> input;
  double reconstruction = 0;
};

template <typename T>
Gradients<T> gradients(const TinyPreset& p, MemorySaving mode) {
  Rng rng(2718);
  auto model = make_flow<T>(p.config, rng);
  const Shape shape = batch_shape(4, p.config.event_shape);
  const Tensor<T> x0 = rng.uniform<T>(shape, T(p.lo), T(p.hi));
  if (p.random_training_loss) model->eval(); else model->train();
  {
    NoGradGuard no_grad;
    (void)model->log_prob(Var<T>(x0));  // ActNorm's data-dependent initialisation, in normal mode
  }
  for (Var<T> param : model->parameters()) {  // away from zero-initialised special points
    Tensor<T> noise = rng.normal<T>(param.shape(), T(0), T(0.05));
    for (std::size_t i = 0; i < noise.numel(); ++i) param.mutable_value().data()[i] += noise.data()[i];
  }
  set_memory_saving(*model, mode);
  Var<T> x(x0, true);
  model->zero_grad();
  neg(mean(model->log_prob(x))).backward();
  Gradients<T> g;
  for (const Var<T>& param : model->parameters())
    g.params.push_back(param.grad().defined() ? param.grad().clone() : Tensor<T>(param.shape(), T(0)));
  g.input = x.grad().clone();
  g.reconstruction = worst_reconstruction_error(*model);
  return g;
}

template <typename T>
double relative_difference(const Tensor<T>& a, const Tensor<T>& b) {
  double scale = 1e-30, diff = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(a.data()[i])));
    diff = std::max(diff, std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i])));
  }
  return diff / scale;
}

template <typename T>
void check_every_preset(double tol) {
  for (const TinyPreset& p : tiny_presets()) {
    for (MemorySaving mode : {MemorySaving::checkpoint, MemorySaving::invertible}) {
      INFO("preset: " << p.name << ", mode " << memory_saving_name(mode));
      const Gradients<T> plain = gradients<T>(p, MemorySaving::none);
      const Gradients<T> saved = gradients<T>(p, mode);
      REQUIRE(plain.params.size() == saved.params.size());
      double worst = relative_difference(plain.input, saved.input);
      for (std::size_t k = 0; k < plain.params.size(); ++k)
        worst = std::max(worst, relative_difference(plain.params[k], saved.params[k]));
      INFO("worst relative gradient difference " << worst << ", reconstruction error "
                                                 << saved.reconstruction);
      CHECK(worst <= tol);
      if (mode == MemorySaving::invertible) CHECK(saved.reconstruction <= 100 * tol);
      else CHECK(saved.reconstruction == 0.0);
    }
  }
}

}  // namespace

TEST_CASE("memory saving: checkpoint and invertible modes give the normal mode's gradients, float64",
          "[flows][memory-saving]") {
  check_every_preset<double>(1e-10);
}

TEST_CASE("memory saving: checkpoint and invertible modes give the normal mode's gradients, float32",
          "[flows][memory-saving]") {
  check_every_preset<float>(1e-4);
}

TEST_CASE("memory saving: mode names round-trip and bad names are refused", "[flows][memory-saving]") {
  for (MemorySaving m : {MemorySaving::none, MemorySaving::checkpoint, MemorySaving::invertible})
    CHECK(parse_memory_saving(memory_saving_name(m)) == m);
  CHECK_FALSE(parse_memory_saving("sometimes").has_value());
}

namespace {

// The activation bytes (tensor/memory_counter.hpp) a training step of a one-level tiny Glow with
// `steps` flow steps holds at its highest, above what was alive before it. Parameters and
// their gradients are marked parameter state, as the Trainer marks them.
std::size_t step_activation_peak(std::size_t steps, MemorySaving mode) {
  const TensorMemoryCountingScope counting;  // the model and its step counted from their start
  Rng rng(31);
  PresetConfig c = tiny_glow_config();
  c.levels = 1;
  c.steps_per_level = steps;
  auto model = make_flow<float>(c, rng);
  const Tensor<float> x0 = rng.uniform<float>(batch_shape(8, c.event_shape), 0.0f, 1.0f);
  model->train();
  {
    NoGradGuard no_grad;
    (void)model->log_prob(Var<float>(x0));  // ActNorm's initialisation: not part of the step
  }
  for (const auto& entry : model->state_dict()) set_memory_kind(entry.second, MemoryKind::parameter_state);
  set_memory_saving(*model, mode);
  model->zero_grad();
  const std::size_t before = tensor_memory().live[MemoryKind::activation];
  reset_tensor_memory_peak();
  neg(mean(model->log_prob(Var<float>(x0)))).backward();
  return tensor_memory().peak_activation - before;
}

}  // namespace

TEST_CASE("memory saving: invertible mode's activation peak stays flat from 4 to 16 flow steps; none grows",
          "[flows][memory-saving]") {
  const std::size_t none4 = step_activation_peak(4, MemorySaving::none);
  const std::size_t none16 = step_activation_peak(16, MemorySaving::none);
  const std::size_t ckpt4 = step_activation_peak(4, MemorySaving::checkpoint);
  const std::size_t ckpt16 = step_activation_peak(16, MemorySaving::checkpoint);
  const std::size_t inv4 = step_activation_peak(4, MemorySaving::invertible);
  const std::size_t inv16 = step_activation_peak(16, MemorySaving::invertible);
  INFO("activation peak bytes, 4 -> 16 steps: none " << none4 << " -> " << none16 << ", checkpoint " << ckpt4
                                                      << " -> " << ckpt16 << ", invertible " << inv4 << " -> "
                                                      << inv16);
  CHECK(none16 > 3 * none4);          // about linear in depth
  CHECK(inv16 <= inv4 + inv4 / 4);    // the target, on activations: < 25% growth
  CHECK(inv16 < none16 / 4);
  CHECK(ckpt16 < none16);             // each step's input is kept: in between
  CHECK(inv16 <= ckpt16);
}
