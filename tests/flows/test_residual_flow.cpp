// tests/flows/test_residual_flow.cpp — residual flows (flows/bijectors/residual_block.hpp, the
// estimators of flows/logdet_estimators.hpp, flows/conditioners/lipschitz_mlp.hpp): in 2-D,
// the exact log-det against a finite-difference Jacobian; the Hutchinson power series and the
// Russian roulette against it in the mean (4 standard errors over many draws); the gradients of
// the series, the Neumann surrogate and the exact log-det against central differences of the
// exact log-det (float64); the Lipschitz bound after training steps; the fixed-point inverse.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/grad_mode.hpp"
#include "autograd/ops.hpp"
#include "autograd/optim/adam.hpp"
#include "flows/bijectors/residual_block.hpp"
#include "flows/presets.hpp"
#include "tensor/linalg.hpp"
#include "tests/flows/tiny_presets.hpp"

using namespace fz;

namespace {

ResidualBlockOptions small_options(double coefficient) {
  ResidualBlockOptions o;
  o.hidden = 8;
  o.hidden_layers = 2;
  o.coefficient = coefficient;
  return o;
}

// The Jacobian products of a block's branch at x, with weights normalised from the current u
// (no power iteration: the function is then deterministic in the parameters).
struct Linearisation {
  std::vector<Var64> weights;
  LipschitzMLP<double>::Pass pass;
  ResidualJacobian<double> J;
};

std::unique_ptr<Linearisation> linearise(LipschitzMLP<double>& g, const Var64& x) {
  auto L = std::make_unique<Linearisation>();
  L->weights = g.normalised_weights(false);
  L->pass = g.forward(x, L->weights);
  L->J.batch = x.shape()[0];
  L->J.dims = x.shape()[1];
  Linearisation* p = L.get();
  L->J.jvp = [&g, p](const Var64& t) { return g.jvp(p->pass, p->weights, t); };
  L->J.jvp_value = [&g, p](const Tensor64& t) { return g.jvp_value(p->pass, p->weights, t); };
  L->J.vjp_value = [&g, p](const Tensor64& r) { return g.vjp_value(p->pass, p->weights, r); };
  return L;
}

// log|det(d forward / dx)| per sample by central differences of the block's forward map.
std::vector<double> numeric_logdets(ResidualBlock<double>& block, const Tensor64& x) {
  NoGradGuard no_grad;
  const std::size_t B = x.shape()[0], D = x.shape()[1];
  const double h = 1e-6;
  std::vector<double> out;
  for (std::size_t b = 0; b < B; ++b) {
    Tensor64 Jm({D, D});
    for (std::size_t j = 0; j < D; ++j) {
      Tensor64 xp = x.clone(), xm = x.clone();
      xp[b * D + j] += h;
      xm[b * D + j] -= h;
      const Tensor64 yp = block.forward(Var64(xp)).value.value(), ym = block.forward(Var64(xm)).value.value();
      for (std::size_t i = 0; i < D; ++i) Jm[i * D + j] = (yp[b * D + i] - ym[b * D + i]) / (2 * h);
    }
    out.push_back(slogdet(Jm).logabsdet);
  }
  return out;
}

// sum_{k=1}^{n} (-1)^{k+1} / k tr(J^k) for one 2x2 (or DxD) Jacobian: the truncated series'
// expectation over probes.
double truncated_series(const Tensor64& jacobians, std::size_t b, std::size_t n) {
  const std::size_t D = jacobians.shape()[1];
  Tensor64 J({D, D}), P({D, D});
  for (std::size_t i = 0; i < D * D; ++i) J[i] = P[i] = jacobians[b * D * D + i];
  double total = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    double tr = 0;
    for (std::size_t i = 0; i < D; ++i) tr += P[i * D + i];
    total += (k % 2 == 1 ? 1.0 : -1.0) / double(k) * tr;
    P = small_matmul(P, J);
  }
  return total;
}

// Mean and standard error of draws.
std::pair<double, double> mean_and_se(const std::vector<double>& xs) {
  double m = 0;
  for (double x : xs) m += x;
  m /= double(xs.size());
  double v = 0;
  for (double x : xs) v += (x - m) * (x - m);
  v /= double(xs.size() - 1);
  return {m, std::sqrt(v / double(xs.size()))};
}

Tensor64 basis_probe(std::size_t B, std::size_t D, std::size_t j) {
  Tensor64 e({B, D});
  for (std::size_t b = 0; b < B; ++b) e[b * D + j] = 1;
  return e;
}

}  // namespace

TEST_CASE("residual flow: the exact log-det equals log|det| of the finite-difference Jacobian, and the "
          "truncated series with an exact trace converges to it", "[flows][resflow]") {
  Rng rng(1);
  ResidualBlock<double> block(2, small_options(0.9), rng);
  block.eval();
  const Tensor64 x = rng.uniform<double>({5, 2}, -2.0, 2.0);
  const Tensor64 exact = block.forward(Var64(x)).logdet.value();
  const std::vector<double> numeric = numeric_logdets(block, x);
  auto L = linearise(block.branch(), Var64(x));
  NoGradGuard no_grad;
  Tensor64 series({5});
  for (std::size_t j = 0; j < 2; ++j) add_inplace(series, power_series_logdet(L->J, 60, basis_probe(5, 2, j)).value());
  for (std::size_t b = 0; b < 5; ++b) {
    CHECK(exact[b] == Approx(numeric[b]).margin(1e-7));
    CHECK(series[b] == Approx(exact[b]).margin(1e-9));
    CHECK(std::abs(exact[b]) > 1e-3);  // the branch is not negligible
  }
}

TEST_CASE("residual flow: the Hutchinson power series is unbiased for the truncated series, and the "
          "Russian roulette for the exact log-det (4 standard errors)", "[flows][resflow]") {
  Rng rng(2);
  // 0.7 keeps the roulette's variance finite (q / Lip^2 > 1 with continue probability 0.5).
  ResidualBlock<double> block(2, small_options(0.7), rng);
  const Tensor64 point = rng.uniform<double>({1, 2}, -1.5, 1.5);
  const Tensor64 exact = [&] {
    block.eval();
    return block.forward(Var64(point)).logdet.value();
  }();
  // Hutchinson: 4000 rows of the same point, each with its own probe (Gaussian and Rademacher).
  const std::size_t rows = 4000;
  Tensor64 x({rows, 2});
  for (std::size_t i = 0; i < rows; ++i) x[2 * i] = point[0], x[2 * i + 1] = point[1];
  auto L = linearise(block.branch(), Var64(x));
  const double truncated = truncated_series(jacobian_matrices(L->J), 0, 3);
  NoGradGuard no_grad;
  for (ProbeKind kind : {ProbeKind::Gaussian, ProbeKind::Rademacher}) {
    const Tensor64 est = power_series_logdet(L->J, 3, draw_probe<double>(kind, rows, 2, rng)).value();
    const auto [m, se] = mean_and_se(est.to_vector());
    INFO("series mean " << m << " +- " << se << ", truncated series " << truncated);
    CHECK(std::abs(m - truncated) < 4 * se);
    CHECK(se < 0.05 * std::abs(truncated) + 1e-3);
  }
  // Russian roulette: one N per call, so many calls (2000) on a batch of 2 copies.
  auto L2 = linearise(block.branch(), Var64(Tensor64({2, 2}, {point[0], point[1], point[0], point[1]})));
  RouletteOptions o;
  std::vector<double> draws;
  std::size_t longest = 0;
  for (int k = 0; k < 2000; ++k) {
    const std::vector<double> survival = draw_roulette_survival(o, rng);
    longest = std::max(longest, survival.size());
    const Tensor64 est = neumann_logdet(L2->J, draw_probe<double>(ProbeKind::Gaussian, 2, 2, rng), survival).value();
    draws.push_back(est[0]);
    draws.push_back(est[1]);
  }
  const auto [m, se] = mean_and_se(draws);
  INFO("roulette mean " << m << " +- " << se << ", exact " << exact[0]);
  CHECK(std::abs(m - exact[0]) < 4 * se);
  CHECK(se < 0.05 * std::abs(exact[0]) + 1e-3);
  CHECK(longest > 4);  // the geometric tail was drawn
}

TEST_CASE("residual flow: log-det gradients (series with an exact trace, the Neumann surrogate, exact) "
          "match central differences of the exact log-det (float64)", "[flows][resflow]") {
  Rng rng(3);
  ResidualBlock<double> block(2, small_options(0.9), rng);
  LipschitzMLP<double>& g = block.branch();
  const std::size_t B = 3, D = 2;
  const Tensor64 x0 = rng.uniform<double>({B, D}, -1.5, 1.5);
  const Tensor64 weights_per_sample = rng.uniform<double>({B}, 0.5, 1.5);
  // The loss sum_b c_b logdet_b as each estimator computes it.
  const std::vector<std::string> estimators = {"series", "neumann", "exact"};
  auto loss = [&](const std::string& which, const Var64& x) {
    auto L = linearise(g, x);
    Var64 ld;
    if (which == "exact") {
      ld = exact_logdet(L->J);
    } else {
      for (std::size_t j = 0; j < D; ++j) {
        const Var64 part = which == "series" ? power_series_logdet(L->J, 60, basis_probe(B, D, j))
                                             : neumann_logdet(L->J, basis_probe(B, D, j), std::vector<double>(60, 1.0));
        ld = ld.defined() ? ld + part : part;
      }
    }
    return sum(mul(ld, Var64(weights_per_sample)));
  };
  auto exact_value = [&](const Tensor64& x) {
    NoGradGuard no_grad;
    return loss("exact", Var64(x)).value().item();
  };
  for (const std::string& which : estimators) {
    INFO(which);
    g.zero_grad();
    Var64 x(x0.clone(), true);
    loss(which, x).backward();
    const double h = 1e-6;
    // Inputs.
    for (std::size_t i = 0; i < x0.numel(); ++i) {
      Tensor64 xp = x0.clone(), xm = x0.clone();
      xp[i] += h;
      xm[i] -= h;
      const double numeric = (exact_value(xp) - exact_value(xm)) / (2 * h);
      CHECK(x.grad()[i] == Approx(numeric).margin(1e-6).epsilon(1e-5));
    }
    // Parameters (every entry of every weight and bias).
    for (Var64 p : g.parameters()) {
      // The last bias does not move J: no gradient arrives (zero).
      const Tensor64 grad = p.grad().defined() ? p.grad() : Tensor64(p.shape());
      for (std::size_t i = 0; i < p.numel(); ++i) {
        const double keep = p.value()[i];
        p.mutable_value()[i] = keep + h;
        const double up = exact_value(x0);
        p.mutable_value()[i] = keep - h;
        const double down = exact_value(x0);
        p.mutable_value()[i] = keep;
        CHECK(grad[i] == Approx((up - down) / (2 * h)).margin(1e-6).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("residual flow: each spectrally normalised weight keeps its largest singular value <= c "
          "after training steps", "[flows][resflow]") {
  PresetConfig c;
  c.model = "resflow";
  c.event_shape = {2};
  c.couplings = 2;
  c.hidden = 16;
  Rng rng(4);
  auto model = make_flow<float>(c, rng);
  model->train();
  Adam<float> opt(model->parameters(), 2e-2);  // a large rate, to push the raw weights around
  for (int step = 0; step < 40; ++step) {
    const Var32 x(fz::testing::correlated_gaussian_batch(rng, 128));
    const Var32 loss = -mean(model->log_prob(x));
    REQUIRE(std::isfinite(loss.value().item()));
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  std::size_t checked = 0;
  for (const auto& layer : model->scales()[0].flow->layers()) {
    auto* block = dynamic_cast<ResidualBlock<float>*>(layer.get());
    if (!block) continue;
    for (double sigma : block->branch().normalised_spectral_norms()) {
      CHECK(sigma <= 0.97 + 1e-3);
      CHECK(sigma > 0.5);  // the raw weights grew past the bound: the normalisation is what holds it
      ++checked;
    }
  }
  CHECK(checked == 2 * 3);
}

TEST_CASE("residual flow: the fixed-point inverse reaches its tolerance, and says so when it cannot",
          "[flows][resflow]") {
  Rng rng(5);
  for (double coefficient : {0.5, 0.97}) {
    INFO("coefficient " << coefficient);
    ResidualBlock<double> block(2, small_options(coefficient), rng);
    block.eval();
    const Tensor64 x = rng.uniform<double>({64, 2}, -3.0, 3.0);
    const Transformed<double> fwd = block.forward(Var64(x));
    const Transformed<double> back = block.inverse(fwd.value);
    const double tolerance = block.inverse_tolerance() * 3.0 * 2;  // * max(1, max |y|), |y| < 6
    const FixedPointReport r = block.last_inverse();
    CHECK(r.iterations > 1);
    CHECK(r.residual <= tolerance);
    // The residual of the forward equation is the last step; the error at most that / (1 - Lip).
    const Tensor64 again = block.forward(back.value).value.value();
    for (std::size_t i = 0; i < x.numel(); ++i) {
      CHECK(std::abs(again[i] - fwd.value.value()[i]) <= tolerance);
      CHECK(std::abs(back.value.value()[i] - x[i]) <= tolerance / (1 - coefficient));
    }
    for (std::size_t b = 0; b < 64; ++b) CHECK(back.logdet.value()[b] == Approx(-fwd.logdet.value()[b]).margin(1e-9));
  }
  ResidualBlockOptions o = small_options(0.97);
  o.inverse_max_iterations = 2;
  ResidualBlock<double> capped(2, o, rng);
  const Tensor64 y = rng.uniform<double>({4, 2}, -3.0, 3.0);
  REQUIRE_THROWS_WITH(capped.inverse(Var64(y)), Catch::Contains("did not converge in 2 iterations"));
}

TEST_CASE("residual flow: the resflow preset round-trips, its eval log-density is deterministic and "
          "its sampler's log-density equals log_prob", "[flows][resflow]") {
  PresetConfig c;
  c.model = "resflow";
  c.event_shape = {2};
  c.couplings = 3;
  c.hidden = 8;
  Rng rng(6);
  auto model = make_flow<double>(c, rng);
  model->eval();
  const Tensor64 x = rng.normal<double>({32, 2});
  NoGradGuard no_grad;
  const Tensor64 a = model->log_prob(Var64(x)).value(), b = model->log_prob(Var64(x)).value();
  for (std::size_t i = 0; i < 32; ++i) CHECK(a[i] == b[i]);
  const Encoding<double> e = model->encode(Var64(x));
  const Transformed<double> back = model->decode(e.latents);
  for (std::size_t i = 0; i < x.numel(); ++i) CHECK(back.value.value()[i] == Approx(x[i]).margin(1e-7));
  const auto [samples, lp] = model->sample_with_log_prob(16, rng);
  const Tensor64 direct = model->log_prob(Var64(samples)).value();
  for (std::size_t i = 0; i < 16; ++i) CHECK(lp[i] == Approx(direct[i]).margin(1e-6));
  // No transformer, and a clear refusal of one; images are refused.
  CHECK(transformer_refusal("resflow", "").empty());
  CHECK(transformer_refusal("resflow", "affine").find("resflow has no transformer") != std::string::npos);
  PresetConfig with_transformer = c;
  with_transformer.transformer = "spline";
  CHECK_THROWS_WITH(resolve_preset(with_transformer), Catch::Contains("resflow has no transformer"));
  PresetConfig images = c;
  images.event_shape = {1, 4, 4};
  CHECK_THROWS_WITH(resolve_preset(images), Catch::Contains("resflow: vector"));
}

TEST_CASE("residual flow: the resflow preset's eval-mode loss (exact log-det) has the gradients of its "
          "central differences, every parameter", "[flows][resflow]") {
  PresetConfig c;
  c.model = "resflow";
  c.event_shape = {2};
  c.couplings = 2;
  c.hidden = 6;
  Rng rng(7);
  auto model = make_flow<double>(c, rng);
  const Tensor64 x = rng.uniform<double>({8, 2}, -2.0, 2.0);
  model->train();
  {
    NoGradGuard no_grad;
    (void)model->log_prob(Var64(x));  // ActNorm's initialisation
  }
  model->eval();
  auto loss = [&] { return neg(mean(model->log_prob(Var64(x)))); };
  model->zero_grad();
  loss().backward();
  std::size_t checked = 0;
  for (auto& [name, param] : model->named_parameters()) {
    const Tensor64 grad = param.grad().defined() ? param.grad().clone() : Tensor64(param.shape());
    Var64 handle = param;
    for (std::size_t j = 0; j < param.numel(); ++j) {
      const double keep = handle.value()[j];
      handle.mutable_value()[j] = keep + 1e-6;
      double up, down;
      {
        NoGradGuard no_grad;
        up = loss().value().item();
        handle.mutable_value()[j] = keep - 1e-6;
        down = loss().value().item();
      }
      handle.mutable_value()[j] = keep;
      INFO(name << "[" << j << "]");
      CHECK(grad[j] == Approx((up - down) / 2e-6).margin(1e-7).epsilon(1e-5));
      ++checked;
    }
  }
  CHECK(checked > 100);
}
