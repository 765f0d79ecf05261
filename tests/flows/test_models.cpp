// tests/flows/test_models.cpp — whole models (every preset at a tiny size, float64): encode /
// decode round trip, the model's total log-det against the Jacobian of x -> all latents,
// sampling and scoring agreeing, and the bits/dim bookkeeping; plus the trainer's behaviour.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/gradcheck.hpp"
#include "datasets/fashion_mnist.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/presets.hpp"
#include "tests/flows/tiny_presets.hpp"
#include "flows/trainer.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/layout.hpp"
#include "tensor/linalg.hpp"

using namespace fz;
using fz::testing::TinyPreset;
using fz::testing::batch_shape;

namespace {

// A preset with its parameters perturbed (zero-initialised layers would otherwise be the
// identity) and its data-dependent layers initialised, left in eval mode.
std::shared_ptr<FlowModel<double>> prepared(const TinyPreset& p, Rng& rng) {
  auto model = make_flow<double>(p.config, rng);
  for (Var64 v : model->parameters()) add_inplace(v.mutable_value(), rng.normal<double>(v.shape(), 0.0, 0.05));
  {
    NoGradGuard no_grad;
    model->train();
    model->log_prob(Var64(rng.uniform<double>(batch_shape(8, p.config.event_shape), p.lo, p.hi)));
  }
  model->eval();
  return model;
}

Tensor64 flat_latents(FlowModel<double>& model, const Tensor64& x) {
  Encoding<double> e = model.encode(Var64(x));
  std::vector<Tensor64> parts;
  for (const Var64& z : e.latents) parts.push_back(z.value().reshape({z.value().numel()}));
  return concat(parts, 0);
}

}  // namespace

TEST_CASE("models: every preset round-trips and its log-det is the Jacobian's", "[flows][models]") {
  for (const TinyPreset& p : fz::testing::tiny_presets()) {
    SECTION(p.name) {
      Rng rng(5);
      auto model = prepared(p, rng);
      NoGradGuard no_grad;
      const Tensor64 x = rng.uniform<double>(batch_shape(3, p.config.event_shape), p.lo, p.hi);
      Encoding<double> enc = model->encode(Var64(x));
      Transformed<double> back = model->decode(enc.latents);
      double err = 0;
      for (std::size_t i = 0; i < x.numel(); ++i) err = std::max(err, std::abs(back.value.value()[i] - x[i]));
      CHECK(err < 1e-9);
      for (std::size_t i = 0; i < 3; ++i) CHECK(back.logdet.value()[i] == Approx(-enc.logdet.value()[i]).margin(1e-8));

      // One sample: log|det| of d(all latents)/dx by finite differences.
      const Tensor64 x0 = slice(x, 0, 0, 1);
      const Tensor64 jac = numeric_jacobian([&](const Tensor64& in) { return flat_latents(*model, in); }, x0, 1e-6);
      REQUIRE(jac.shape()[0] == jac.shape()[1]);
      CHECK(slogdet(jac).logabsdet == Approx(enc.logdet.value()[0]).margin(1e-5));
    }
  }
}

TEST_CASE("models: samples scored by log_prob give the density the sampler used", "[flows][models]") {
  for (const TinyPreset& p : fz::testing::tiny_presets()) {
    SECTION(p.name) {
      Rng rng(17);
      auto model = prepared(p, rng);
      auto [x, lp_sampler] = model->sample_with_log_prob(5, rng);
      REQUIRE(x.shape() == batch_shape(5, p.config.event_shape));
      NoGradGuard no_grad;
      const Tensor64 lp = model->log_prob(Var64(x)).value();
      for (std::size_t i = 0; i < 5; ++i) CHECK(lp[i] == Approx(lp_sampler[i]).epsilon(1e-9).margin(1e-7));
      // A lower temperature concentrates samples: their average density is higher.
      Rng r1(3), r2(3);
      const Tensor64 cold = model->sample(64, 0.3, r1), warm = model->sample(64, 1.0, r2);
      double lp_cold = 0, lp_warm = 0;
      const Tensor64 a = model->log_prob(Var64(cold)).value(), b = model->log_prob(Var64(warm)).value();
      for (std::size_t i = 0; i < 64; ++i) {
        lp_cold += a[i];
        lp_warm += b[i];
      }
      CHECK(lp_cold > lp_warm);
    }
  }
}

TEST_CASE("models: benchmark presets have the documented structure", "[flows][models]") {
  Rng rng(0);
  PresetConfig glow;  // defaults: glow-fmnist, L = 2, K = 8, hidden 128
  auto g = make_flow<float>(glow, rng);
  REQUIRE(g->scales().size() == 2);
  REQUIRE(g->scales()[0].flow->size() == 1 + 8);  // squeeze + 8 steps
  REQUIRE(g->scales()[0].split != nullptr);
  REQUIRE(g->scales()[1].split == nullptr);
  PresetConfig rnvp;
  rnvp.model = "realnvp";
  auto r = make_flow<float>(rnvp, rng);
  REQUIRE(r->scales().size() == 3);
  REQUIRE(r->scales()[0].flow->size() == 3 + 1 + 3);
  REQUIRE(r->scales()[2].flow->size() == 4);
  PresetConfig nice;
  nice.model = "nice";
  auto n = make_flow<float>(nice, rng);
  REQUIRE(n->scales()[0].flow->size() == 5);  // 4 couplings + scaling
  // 4 couplings of an MLP 392 -> 1000 x5 -> 392, plus 784 scales.
  const std::size_t mlp = (392 * 1000 + 1000) + 4 * (1000 * 1000 + 1000) + (1000 * 392 + 392);
  REQUIRE(n->num_parameters() == 4 * mlp + 784);
  PresetConfig bad = glow;
  bad.event_shape = {1, 28, 28};
  bad.levels = 3;  // 28 is not divisible by 8
  REQUIRE_THROWS_WITH(make_flow<float>(bad, rng), Catch::Contains("divisible"));
  bad.model = "flowy";
  REQUIRE_THROWS_WITH(make_flow<float>(bad, rng), Catch::Contains("unknown model"));
}

TEST_CASE("models: bits/dim follows the formula", "[flows][models]") {
  // log p = D ln 256 - D ln 2 * 3 gives exactly 3 bits per dimension.
  const std::size_t d = 784;
  const double lp = d * std::log(256.0) - d * std::log(2.0) * 3.0;
  REQUIRE(bits_per_dim(lp, d) == Approx(3.0));
  Var64 v(Tensor64({2}, {lp, lp}));
  REQUIRE(bits_per_dim(v, d).value().item() == Approx(3.0));
  // Dequantized values stay inside each pixel's bin.
  TensorU8 px({4}, {0, 1, 128, 255});
  Rng rng(1);
  const Tensor64 x = dequantize<double>(px, rng);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(x[i] >= px[i] / 256.0);
    CHECK(x[i] < (px[i] + 1) / 256.0);
  }
  REQUIRE(unit_to_pixels(x).to_vector() == px.to_vector());
}

TEST_CASE("trainer: a 2-D RealNVP learns and a diverging run stops with the step number", "[flows][trainer]") {
  Rng rng(2);
  PresetConfig toy;
  toy.model = "realnvp";
  toy.event_shape = {2};
  toy.couplings = 4;
  toy.hidden = 16;
  auto model = make_flow<float>(toy, rng);
  TrainerOptions opt;
  opt.lr = 3e-3;
  Trainer<float> trainer(model, opt, 1);
  // Data: a correlated Gaussian, x2 = 0.9 x1 + 0.3 eps; its entropy is known exactly.
  auto data = [&](std::size_t n) { return fz::testing::correlated_gaussian_batch(rng, n); };
  const Tensor<float> test = data(2000);
  const double before = trainer.evaluate_continuous(test, 500);
  for (int s = 0; s < 300; ++s) trainer.step_continuous(data(128));
  const double after = trainer.evaluate_continuous(test, 500);
  // Differential entropy: log(2 pi e) + 1/2 log det Sigma, det = 1 * 0.09.
  const double entropy = std::log(2 * M_PI * std::exp(1.0)) + 0.5 * std::log(0.09);
  CHECK(before > after + 0.5);
  CHECK(after < entropy + 0.15);
  CHECK(trainer.steps_done() == 300);

  TrainerOptions wild = opt;
  wild.divergence.policy = DivergencePolicy::Stop;  // recovery: tests/flows/test_divergence.cpp
  Trainer<float> t2(model, wild, 1);
  Tensor<float> poison = data(8);
  poison[3] = std::numeric_limits<float>::quiet_NaN();
  const Tensor<float> before_params = model->parameters()[0].value().clone();
  REQUIRE_THROWS_WITH(t2.step_continuous(poison), Catch::Contains("step 1") && Catch::Contains("nan"));
  REQUIRE(model->parameters()[0].value().to_vector() == before_params.to_vector());
  REQUIRE(Tape<float>::current().size() == 0);
}

TEST_CASE("models: a glow-fmnist-sized model round-trips real images in float32", "[flows][models]") {
  // The full benchmark architecture (L = 2, K = 8, hidden 128) on 16 Fashion-MNIST test images.
  const ImageDataset test = load_fashion_mnist(false);
  const TensorU8 pixels = slice(test.images, 0, 0, 16);
  Rng rng(4);
  auto model = make_flow<float>(PresetConfig{}, rng);
  for (Var<float> v : model->parameters()) add_inplace(v.mutable_value(), rng.normal<float>(v.shape(), 0.0f, 0.01f));
  NoGradGuard no_grad;
  const Tensor<float> x = dequantize<float>(pixels, rng);
  model->train();
  model->log_prob(Var<float>(x));  // ActNorm's data-dependent initialisation
  model->eval();
  Encoding<float> enc = model->encode(Var<float>(x));
  const Tensor<float> back = model->decode(enc.latents).value.value();
  double err = 0;
  for (std::size_t i = 0; i < x.numel(); ++i) err = std::max(err, static_cast<double>(std::abs(back[i] - x[i])));
  CHECK(err < 1e-4);
  const Tensor<float> lp = enc.log_prob().value();
  for (std::size_t i = 0; i < lp.numel(); ++i) CHECK(std::isfinite(lp[i]));
}

TEST_CASE("distributions: log densities equal their closed forms at known points", "[flows][models]") {
  const double pi = 3.14159265358979323846;
  // Two samples of two dimensions.
  const Var64 z(Tensor64({2, 2}, {0.5, -1.0, 2.0, 0.0}));
  StandardNormal<double> normal;
  const Tensor64 lpn = normal.log_prob(z).value();
  REQUIRE(lpn[0] == Approx(-0.5 * (0.25 + 1.0) - std::log(2 * pi)).epsilon(1e-14));
  REQUIRE(lpn[1] == Approx(-0.5 * 4.0 - std::log(2 * pi)).epsilon(1e-14));
  // Logistic density e^-z / (1 + e^-z)^2 per dimension.
  StandardLogistic<double> logistic;
  const Tensor64 lpl = logistic.log_prob(z).value();
  auto logistic1 = [](double v) { return std::log(std::exp(-v) / std::pow(1 + std::exp(-v), 2)); };
  REQUIRE(lpl[0] == Approx(logistic1(0.5) + logistic1(-1.0)).epsilon(1e-14));
  REQUIRE(lpl[1] == Approx(logistic1(2.0) + std::log(0.25)).epsilon(1e-14));
  // N(mean, sd^2) with sd = e^log_sd: -(z - m)^2 / (2 sd^2) - log sd - log(2 pi) / 2.
  const Var64 mean(Tensor64({2, 2}, {1.0, 0.0, -1.0, 0.5}));
  const Var64 log_sd(Tensor64({2, 2}, {0.0, std::log(2.0), std::log(0.5), 0.0}));
  const Tensor64 lpc = ConditionalGaussian<double>::log_prob(z, mean, log_sd).value();
  auto gauss1 = [&](double v, double m, double sd) {
    return -(v - m) * (v - m) / (2 * sd * sd) - std::log(sd) - 0.5 * std::log(2 * pi);
  };
  REQUIRE(lpc[0] == Approx(gauss1(0.5, 1.0, 1.0) + gauss1(-1.0, 0.0, 2.0)).epsilon(1e-14));
  REQUIRE(lpc[1] == Approx(gauss1(2.0, -1.0, 0.5) + gauss1(0.0, 0.5, 1.0)).epsilon(1e-14));
  // The learned diagonal Gaussian starts as a standard normal.
  DiagonalGaussian<double> diag({2});
  const Tensor64 lpd = diag.log_prob(z).value();
  REQUIRE(lpd[0] == Approx(lpn[0]).epsilon(1e-14));
  REQUIRE(lpd[1] == Approx(lpn[1]).epsilon(1e-14));
}

TEST_CASE("models: float32 dequantization never reaches the top of the pixel's bin", "[flows][models]") {
  // In float, 255 + u rounds to 256 for u > 1 - 2^-17 (about 8 in a million draws): x would be
  // exactly 1.0 and logit(x) infinite.
  TensorU8 px = TensorU8::empty({1 << 20});
  for (std::size_t i = 0; i < px.numel(); ++i) px[i] = i % 2 ? 255 : 127;
  Rng rng(3);
  const Tensor<float> x = dequantize<float>(px, rng);
  std::size_t outside = 0;
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const float lo = static_cast<float>(px[i] / 256.0), hi = static_cast<float>((px[i] + 1) / 256.0);
    if (!(x[i] >= lo && x[i] < hi)) ++outside;
  }
  REQUIRE(outside == 0);
}
