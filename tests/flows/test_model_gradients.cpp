// tests/flows/test_model_gradients.cpp — whole-model gradient check: d(training loss)/d(every
// parameter tensor) of each preset at a tiny size (float64, tests/flows/tiny_presets.hpp)
// against central differences of the loss the Trainer actually minimises — mean dequantized
// bits/dim for images (every preprocessing log-det, every Split's prior, learned or not, and
// the base or learned top prior), mean negative log-likelihood in nats for 2-D data — with
// the dequantization noise drawn once and held fixed. The per-bijector harness
// (test_conformance.cpp) checks each layer alone; this checks that they are wired together
// right (a parameter missing from the graph, a Split prior's gradient lost, a log-det
// counted twice show up here and nowhere else).
//
// Parameters get N(0, 0.05^2) noise first so zero-initialised layers (Glow's zero convs, the
// Split priors, a learned top prior) are checked away from their special point. Every entry
// of tensors up to 12 entries, 12 random entries of larger ones. Tolerance: |analytic -
// numeric| <= 1e-8 + 1e-5 |numeric|: with eps = 1e-6 central differences are accurate to
// ~1e-10 here (truncation eps^2 f''' plus rounding 1e-16 |L| / eps), far inside it.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "flows/image_likelihood.hpp"
#include "tensor/elementwise.hpp"
#include "tests/flows/tiny_presets.hpp"

using namespace fz;
using namespace fz::testing;

TEST_CASE("model gradients: d(training loss)/d(parameters) of every preset matches central "
          "differences", "[flows][model-gradients]") {
  for (const TinyPreset& p : tiny_presets()) {
    // A random training loss has no central differences (resflow's estimator gradients are
    // checked in test_residual_flow.cpp).
    if (p.random_training_loss) continue;
    SECTION(p.name) {
      INFO("preset: " << p.name);
      Rng rng(2718);
      auto model = make_flow<double>(p.config, rng);
      const bool images = p.config.event_shape.size() == 3;
      const Shape shape = batch_shape(8, p.config.event_shape);
      // The training input: dequantized random pixels (fixed noise) or continuous 2-D points.
      Tensor64 x;
      if (images) {
        TensorU8 pixels(shape);
        for (auto& v : pixels) v = static_cast<std::uint8_t>(rng.below(256));
        x = dequantize<double>(pixels, rng);
      } else {
        x = rng.uniform<double>(shape, p.lo, p.hi);
      }
      auto loss = [&]() {
        const Var64 lp = model->log_prob(Var64(x));
        return images ? bits_per_dim(lp, model->dims()) : neg(mean(lp));
      };
      model->train();
      {
        NoGradGuard no_grad;
        (void)loss();  // ActNorm's data-dependent initialisation, as the first training step
      }
      for (Var64 param : model->parameters()) {
        Tensor64 noise = rng.normal<double>(param.shape(), 0.0, 0.05);
        add_inplace(param.mutable_value(), noise);
      }
      auto loss_value = [&]() {
        NoGradGuard no_grad;
        return loss().value().item();
      };
      model->zero_grad();
      loss().backward();

      const double eps = 1e-6;
      std::size_t checked = 0, tensors = 0;
      for (auto& [name, param] : model->named_parameters()) {
        ++tensors;
        const Tensor64 grad = param.grad().defined() ? param.grad().clone() : Tensor64(param.shape(), 0.0);
        std::vector<std::size_t> entries;
        if (param.numel() <= 12) {
          for (std::size_t j = 0; j < param.numel(); ++j) entries.push_back(j);
        } else {
          for (int k = 0; k < 12; ++k) entries.push_back(rng.below(param.numel()));
        }
        Var64 handle = param;
        for (std::size_t j : entries) {
          const double orig = handle.value()[j];
          handle.mutable_value()[j] = orig + eps;
          const double lp = loss_value();
          handle.mutable_value()[j] = orig - eps;
          const double lm = loss_value();
          handle.mutable_value()[j] = orig;
          const double numeric = (lp - lm) / (2 * eps);
          INFO(name << "[" << j << "]: analytic " << grad[j] << ", numeric " << numeric);
          CHECK(std::abs(grad[j] - numeric) <= 1e-8 + 1e-5 * std::abs(numeric));
          ++checked;
        }
      }
      INFO(tensors << " parameter tensors, " << checked << " entries");
      REQUIRE(tensors == model->parameters().size());
      REQUIRE(checked > 0);
    }
  }
}
