// tests/flows/test_variational_dequantization.cpp — flows/variational_dequantizer.hpp and
// flows/importance_weighted.hpp on tiny cases (1x4x4 images, a tiny Glow): the noise lies in
// (0, 1) and y in the pixel's bin; log q(u | x) is the change of variables of eps -> u (a
// finite-difference Jacobian in float64); the joint loss's gradient in the dequantizer's
// parameters matches central differences; the trainer's step and evaluation use the bound; the
// importance-weighted estimate with S = 1 is evaluate_images' number exactly, with S > 1 equals a
// brute-force log-mean-exp of the same draws and is never above the mean of their single-draw
// bounds (Jensen).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "autograd/grad_mode.hpp"
#include "autograd/ops_elementwise.hpp"
#include "flows/image_likelihood.hpp"
#include "flows/importance_weighted.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "flows/variational_dequantizer.hpp"
#include "tiny_presets.hpp"

using namespace fz;

namespace {

TensorU8 random_pixels(Rng& rng, std::size_t n) {
  TensorU8 px({n, 1, 4, 4});
  for (auto& v : px) v = static_cast<std::uint8_t>(rng.below(256));
  return px;
}

// Moves every parameter off its initial value (the couplings' last convolutions start at zero,
// where the couplings are the identity and would check little).
template <typename T>
void perturb(Module<T>& m, Rng& rng, double sd) {
  for (Var<T> p : m.parameters()) {
    Tensor<T> noise = rng.normal<T>(p.shape(), T(0), static_cast<T>(sd));
    Tensor<T>& v = p.mutable_value();
    for (std::size_t i = 0; i < v.numel(); ++i) v[i] += noise[i];
  }
}

// log |det A| of a square row-major matrix by Gaussian elimination with partial pivoting.
double log_abs_det(std::vector<double> a, std::size_t n) {
  double out = 0;
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(a[r * n + c]) > std::abs(a[pivot * n + c])) pivot = r;
    if (pivot != c)
      for (std::size_t k = 0; k < n; ++k) std::swap(a[c * n + k], a[pivot * n + k]);
    const double d = a[c * n + c];
    out += std::log(std::abs(d));
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / d;
      for (std::size_t k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
    }
  }
  return out;
}

std::shared_ptr<FlowModel<double>> tiny_glow_with_dequantizer(Rng& rng) {
  auto model = make_flow<double>(resolve_preset(fz::testing::tiny_glow_config()), rng);
  add_variational_dequantizer(*model, 4, 8, rng);
  return model;
}

}  // namespace

TEST_CASE("variational dequantizer: u lies in (0, 1) and y = (x + u) / 256 in the pixel's bin",
          "[flows][dequantization]") {
  Rng rng(3);
  VariationalDequantizer<double> q({1, 4, 4}, 4, 4, 8, rng);
  perturb(q, rng, 0.5);
  const TensorU8 px = random_pixels(rng, 6);
  Tensor<double> eps = q.draw_noise(6, rng);
  for (std::size_t i = 0; i < 8; ++i) eps[i] = (i % 2 ? 1 : -1) * 40.0;  // far tails: sigmoid saturates
  NoGradGuard no_grad;
  const DequantizedBatch<double> d = q.dequantize(px, eps);
  const Tensor<double> u = q.noise_to_u(px, eps).value();
  for (std::size_t i = 0; i < u.numel(); ++i) {
    CHECK(u[i] > 0.0);
    CHECK(u[i] < 1.0);
    CHECK(d.y.value()[i] >= px[i] / 256.0);
    CHECK(d.y.value()[i] < (px[i] + 1) / 256.0);
  }
  for (std::size_t b = 0; b < 6; ++b) CHECK(std::isfinite(d.log_q.value()[b]));
  // A fresh dequantizer is close to uniform: sigmoid(1.702 eps) ~ Phi(eps), so log q ~ 0.
  VariationalDequantizer<double> fresh({1, 4, 4}, 4, 4, 8, rng);
  const Tensor<double> lq = fresh.dequantize(random_pixels(rng, 256), fresh.draw_noise(256, rng)).log_q.value();
  double mean = 0;
  for (double v : lq) mean += v / 256.0;
  CHECK(std::abs(mean) < 0.05 * 16);  // nats per image of 16 dimensions
}

TEST_CASE("variational dequantizer: log q(u | x) is the change of variables of eps -> u (finite-difference Jacobian)",
          "[flows][dequantization]") {
  Rng rng(11);
  VariationalDequantizer<double> q({1, 4, 4}, 4, 4, 8, rng);
  perturb(q, rng, 0.3);
  const TensorU8 px = random_pixels(rng, 2);
  const Tensor<double> eps = q.draw_noise(2, rng);
  NoGradGuard no_grad;
  const Tensor<double> log_q = q.dequantize(px, eps).log_q.value();
  const std::size_t d = 16;
  // 1e-4: smaller steps lose digits to rounding (u's differences near the margin are tiny);
  // at 1e-4 and 1e-5 the estimate agrees to ~5e-6 nats, a dropped log(1 - 2 delta) would be 3e-3.
  const double h = 1e-4;
  for (std::size_t b = 0; b < 2; ++b) {
    std::vector<double> jac(d * d);
    for (std::size_t j = 0; j < d; ++j) {
      Tensor<double> plus = eps.clone(), minus = eps.clone();
      plus[b * d + j] += h;
      minus[b * d + j] -= h;
      const Tensor<double> up = q.noise_to_u(px, plus).value(), um = q.noise_to_u(px, minus).value();
      for (std::size_t i = 0; i < d; ++i) jac[i * d + j] = (up[b * d + i] - um[b * d + i]) / (2 * h);
    }
    double log_normal = -0.5 * static_cast<double>(d) * std::log(2 * M_PI);
    for (std::size_t i = 0; i < d; ++i) log_normal -= 0.5 * eps[b * d + i] * eps[b * d + i];
    const double expected = log_normal - log_abs_det(jac, d);
    INFO("image " << b);
    CHECK(log_q[b] == Approx(expected).epsilon(0).margin(2e-5));
  }
}

TEST_CASE("variational dequantization: the joint loss's gradient in the dequantizer's parameters (float64 gradcheck)",
          "[flows][dequantization]") {
  Rng rng(5);
  auto model = tiny_glow_with_dequantizer(rng);
  VariationalDequantizer<double>& q = *model->dequantizer();
  perturb(q, rng, 0.3);
  const TensorU8 px = random_pixels(rng, 4);
  const Tensor<double> eps = q.draw_noise(4, rng);
  auto loss = [&]() {
    const DequantizedBatch<double> d = q.dequantize(px, eps);
    return bits_per_dim(model->log_prob(d.y) - d.log_q, model->dims());
  };
  model->train();
  {
    NoGradGuard no_grad;
    (void)loss();  // ActNorm's data-dependent initialisation, as a first step
  }
  model->zero_grad();
  loss().backward();
  std::size_t checked = 0;
  for (auto& [name, param] : q.named_parameters()) {
    const Tensor<double> grad = param.grad().clone();
    Var<double> handle = param;
    for (std::size_t j : {std::size_t(0), param.numel() / 2, param.numel() - 1}) {
      const double orig = handle.value()[j];
      NoGradGuard no_grad;
      handle.mutable_value()[j] = orig + 1e-6;
      const double lp = loss().value().item();
      handle.mutable_value()[j] = orig - 1e-6;
      const double lm = loss().value().item();
      handle.mutable_value()[j] = orig;
      const double numeric = (lp - lm) / 2e-6;
      INFO(name << "[" << j << "]: analytic " << grad[j] << ", numeric " << numeric);
      CHECK(std::abs(grad[j] - numeric) <= 1e-8 + 1e-5 * std::abs(numeric));
      ++checked;
    }
  }
  CHECK(checked >= 3 * 10);  // two feature convs and four couplings' nets and scales
}

TEST_CASE("variational dequantization: the trainer trains the dequantizer and evaluates the bound",
          "[flows][dequantization]") {
  Rng rng(7);
  auto model = make_flow<float>(resolve_preset(fz::testing::tiny_glow_config()), rng);
  const std::size_t flow_params = model->parameters().size();
  add_variational_dequantizer(*model, 4, 8, rng);
  REQUIRE(model->parameters().size() > flow_params);  // the dequantizer's come last
  TrainerOptions o;
  Trainer<float> trainer(model, o, 1);
  const TensorU8 px = random_pixels(rng, 16);
  const Tensor<float> before = model->dequantizer()->named_parameters().front().second.value().clone();
  for (int s = 0; s < 3; ++s) REQUIRE(std::isfinite(trainer.step_images(px).loss));
  const Tensor<float> after = model->dequantizer()->named_parameters().front().second.value();
  double moved = 0;
  for (std::size_t i = 0; i < after.numel(); ++i) moved = std::max(moved, std::abs(double(after[i]) - before[i]));
  CHECK(moved > 0);  // the optimiser updated q's parameters
  // evaluate_images is the mean bound: by hand with the same generator and draws.
  const double bpd = trainer.evaluate_images(px, 16, 9);
  Rng eval_rng(9, 11);
  NoGradGuard no_grad;
  model->eval();
  VariationalDequantizer<float>& q = *model->dequantizer();
  const DequantizedBatch<float> d = q.dequantize(px, q.draw_noise(16, eval_rng));
  const Tensor<float> bound = (model->log_prob(d.y) - d.log_q).value();
  double by_hand = 0;
  for (std::size_t i = 0; i < 16; ++i) by_hand += bits_per_dim(double(bound[i]), 16) / 16.0;
  model->train();
  CHECK(bpd == Approx(by_hand).epsilon(1e-12));
}

TEST_CASE("importance-weighted estimate: S = 1 is evaluate_images' bound exactly, S > 1 the log-mean-exp of its draws",
          "[flows][dequantization]") {
  for (bool variational : {false, true}) {
    INFO((variational ? "variational" : "uniform") << " dequantization");
    Rng rng(21);
    auto model = make_flow<float>(resolve_preset(fz::testing::tiny_glow_config()), rng);
    if (variational) add_variational_dequantizer(*model, 4, 8, rng);
    TrainerOptions o;
    Trainer<float> trainer(model, o, 1);
    const TensorU8 px = random_pixels(rng, 24);
    for (int s = 0; s < 2; ++s) trainer.step_images(px);  // ActNorm initialised, off the initial point
    if (variational) perturb(*model->dequantizer(), rng, 0.2);

    const ImportanceWeightedResult one = importance_weighted_bpd(trainer, px, 1, 10, 4);
    CHECK(one.mean_bpd == trainer.evaluate_images(px, 10, 4));  // the same draws, the same arithmetic
    REQUIRE(one.bpd.size() == 24);
    CHECK(one.standard_error > 0);

    // S = 5 by brute force: the same draws (batch by batch, draw after draw), exp summed naively
    // in long double (log p of 16 dimensions is tens of nats: no overflow here).
    const std::size_t S = 5;
    const ImportanceWeightedResult five = importance_weighted_bpd(trainer, px, S, 10, 4);
    Rng eval_rng(4, 11);
    NoGradGuard no_grad;
    model->eval();
    double jensen_gap = 0;
    for (std::size_t b = 0; b < 24; b += 10) {
      const std::size_t rows = std::min<std::size_t>(10, 24 - b);
      TensorU8 batch({rows, 1, 4, 4});
      for (std::size_t i = 0; i < batch.numel(); ++i) batch[i] = px[b * 16 + i];
      std::vector<std::vector<double>> w(rows);
      for (std::size_t s = 0; s < S; ++s) {
        Tensor<float> lp;
        if (variational) {
          VariationalDequantizer<float>& q = *model->dequantizer();
          const DequantizedBatch<float> d = q.dequantize(batch, q.draw_noise(rows, eval_rng));
          lp = (model->log_prob(d.y) - d.log_q).value();
        } else {
          lp = model->log_prob(Var<float>(dequantize<float>(batch, eval_rng))).value();
        }
        for (std::size_t i = 0; i < rows; ++i) w[i].push_back(double(lp[i]) - 16 * std::log(256.0));
      }
      for (std::size_t i = 0; i < rows; ++i) {
        long double sum = 0, mean_w = 0;
        for (double v : w[i]) {
          sum += std::exp(static_cast<long double>(v));
          mean_w += v / static_cast<long double>(S);
        }
        const double brute = -static_cast<double>(std::log(sum / S)) / (16 * std::log(2.0));
        const double single_mean = -static_cast<double>(mean_w) / (16 * std::log(2.0));
        INFO("image " << b + i);
        CHECK(five.bpd[b + i] == Approx(brute).epsilon(1e-12).margin(1e-12));
        CHECK(five.bpd[b + i] <= single_mean + 1e-12);  // Jensen: log mean exp >= mean
        jensen_gap += single_mean - five.bpd[b + i];
      }
    }
    model->train();
    CHECK(jensen_gap > 0);
  }
}

TEST_CASE("importance-weighted estimate: log_mean_exp is stable far from 0", "[flows][dequantization]") {
  CHECK(log_mean_exp({1000.0, 1000.0}) == Approx(1000.0));
  CHECK(log_mean_exp({-1000.0, -1000.0 + std::log(3.0)}) == Approx(-1000.0 + std::log(2.0)));
  CHECK(log_mean_exp({5.0}) == 5.0);
  CHECK_THROWS_AS(log_mean_exp({}), std::invalid_argument);
}
