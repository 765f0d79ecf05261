// tests/flows/test_logdet_breakdown.cpp — the per-layer breakdown of log p(x): its terms add up
// to bits_per_dim(log_prob) (float64, tiny NICE / RealNVP / Glow), each term is what its own
// bijector (split, base) returns on the input the walk hands it, grouping nested chains changes
// nothing but the rows, and in float32 it reproduces log_prob bit for bit (what makes
// `flowzoo inspect` print the same total as `flowzoo eval`).
#include <catch2/catch.hpp>

#include <cmath>

#include "flows/image_likelihood.hpp"
#include "flows/logdet_breakdown.hpp"
#include "flows/presets.hpp"
#include "tests/flows/tiny_presets.hpp"

using namespace fz;
using fz::testing::TinyPreset;
using fz::testing::batch_shape;

namespace {

// Parameters perturbed (zero-initialised layers would contribute exactly 0 and test nothing),
// ActNorm initialised from data, eval mode.
template <typename T>
std::shared_ptr<FlowModel<T>> prepared(const TinyPreset& p, Rng& rng) {
  auto model = make_flow<T>(p.config, rng);
  for (Var<T> v : model->parameters()) {
    Tensor<T> noise = rng.normal<T>(v.shape(), T(0), T(0.05));
    for (std::size_t i = 0; i < noise.numel(); ++i) v.mutable_value()[i] += noise[i];
  }
  {
    NoGradGuard no_grad;
    model->train();
    model->log_prob(Var<T>(rng.uniform<T>(batch_shape(8, p.config.event_shape), T(p.lo), T(p.hi))));
  }
  model->eval();
  return model;
}

double mean_of(const Tensor64& t) {
  double s = 0;
  for (std::size_t i = 0; i < t.numel(); ++i) s += t[i];
  return s / static_cast<double>(t.numel());
}

}  // namespace

TEST_CASE("logdet breakdown: the terms add up to bits/dim of log_prob (float64)", "[flows][breakdown]") {
  for (const TinyPreset& p : fz::testing::tiny_image_presets()) {
    SECTION(p.name) {
      Rng rng(11);
      auto model = prepared<double>(p, rng);
      const Tensor64 x = rng.uniform<double>(batch_shape(6, p.config.event_shape), p.lo, p.hi);
      NoGradGuard no_grad;
      const Var64 lp = model->log_prob(Var64(x));
      const double expected_bpd = bits_per_dim(lp, model->dims()).value()[0];

      const LogdetBreakdown<double> b = logdet_breakdown(*model, Var64(x));
      REQUIRE(b.log_prob.numel() == 6);
      for (std::size_t i = 0; i < 6; ++i) CHECK(std::abs(b.log_prob[i] - lp.value()[i]) <= 1e-10);

      LogdetSummary summary(model->dims());
      summary.add(b);
      CHECK(summary.count() == 6);
      CHECK(std::abs(summary.sum_of_terms_bpd() - expected_bpd) <= 1e-9);
      CHECK(std::abs(summary.total_bpd() - expected_bpd) <= 1e-9);
      CHECK(summary.constant_bpd() == 8.0);
      CHECK(summary.constant_nats() == Approx(model->dims() * std::log(256.0)).epsilon(1e-15));

      // Each row's bpd is its mean in nats over -(D ln 2), and at least one layer really moves
      // the likelihood (so the sums above are not sums of zeros).
      const auto rows = summary.rows();
      REQUIRE(rows.size() == b.terms.size());
      double largest = 0;
      for (std::size_t k = 0; k < rows.size(); ++k) {
        INFO(rows[k].name);
        CHECK(rows[k].mean_nats == Approx(mean_of(b.terms[k].per_sample)).epsilon(1e-14));
        CHECK(rows[k].bpd == Approx(-rows[k].mean_nats / (model->dims() * std::log(2.0))).epsilon(1e-14));
        if (b.terms[k].kind == LogdetTermKind::Bijector) largest = std::max(largest, std::abs(rows[k].mean_nats));
      }
      CHECK(largest > 1e-3);

      // The bijector terms sum to encode's logdet, the priors to its latent log-probability,
      // and the latents are encode's.
      const Encoding<double> enc = model->encode(Var64(x));
      for (std::size_t i = 0; i < 6; ++i) {
        double logdet = 0, latent = 0;
        for (const auto& t : b.terms) (t.kind == LogdetTermKind::Bijector ? logdet : latent) += t.per_sample[i];
        CHECK(std::abs(logdet - enc.logdet.value()[i]) <= 1e-9);
        CHECK(std::abs(latent - enc.latent_log_prob.value()[i]) <= 1e-9);
      }
      REQUIRE(b.latents.size() == enc.latents.size());
      for (std::size_t l = 0; l < b.latents.size(); ++l) {
        REQUIRE(b.latents[l].shape() == enc.latents[l].shape());
        CHECK(b.latents[l].to_vector() == enc.latents[l].value().to_vector());
      }
    }
  }
}

TEST_CASE("logdet breakdown: each term is what its own layer returns on the walk's input", "[flows][breakdown]") {
  for (const TinyPreset& p : fz::testing::tiny_image_presets()) {
    for (std::size_t depth : {0, 1}) {
      SECTION(p.name + ", depth " + std::to_string(depth)) {
        Rng rng(12);
        auto model = prepared<double>(p, rng);
        const Tensor64 x = rng.uniform<double>(batch_shape(4, p.config.event_shape), p.lo, p.hi);
        NoGradGuard no_grad;
        const LogdetBreakdown<double> b = logdet_breakdown(*model, Var64(x), depth);
        // Replay: feed each recorded layer the output of the previous one.
        Var64 h(x);
        std::size_t splits = 0;
        for (const auto& t : b.terms) {
          INFO(t.name << " " << t.type);
          Tensor64 expected;
          if (t.kind == LogdetTermKind::Bijector) {
            REQUIRE(t.bijector);
            const Transformed<double> step = t.bijector->forward(h);
            expected = step.logdet.value();
            h = step.value;
            REQUIRE(t.shape_out == Shape(h.shape().begin() + 1, h.shape().end()));
          } else if (t.kind == LogdetTermKind::SplitPrior) {
            REQUIRE(t.split);
            const SplitOutput<double> out = t.split->forward(h);
            expected = out.log_prob.value();
            REQUIRE(t.shape_out == Shape(out.z.shape().begin() + 1, out.z.shape().end()));
            h = out.kept;
            ++splits;
          } else {
            expected = model->base().log_prob(h).value();
            REQUIRE(t.name == "top");
          }
          REQUIRE(expected.numel() == 4);
          for (std::size_t i = 0; i < 4; ++i) CHECK(t.per_sample[i] == expected[i]);
        }
        CHECK(b.terms.back().kind == LogdetTermKind::Base);
        CHECK(splits + 1 == model->scales().size());
      }
    }
  }
}

TEST_CASE("logdet breakdown: rows per layer, per Glow step, and the same totals either way", "[flows][breakdown]") {
  const TinyPreset glow = fz::testing::tiny_image_presets()[2];  // L = 2, K = 2
  Rng rng(13);
  auto model = prepared<double>(glow, rng);
  const Tensor64 x = rng.uniform<double>(batch_shape(5, glow.config.event_shape), 0.0, 1.0);
  const LogdetBreakdown<double> leaves = logdet_breakdown(*model, Var64(x), 0);
  const LogdetBreakdown<double> steps = logdet_breakdown(*model, Var64(x), 1);
  // Leaves: centering + per level (squeeze + K x {ActNorm, 1x1, coupling}) + 1 split + top.
  CHECK(leaves.terms.size() == 1 + 2 * (1 + 2 * 3) + 1 + 1);
  CHECK(leaves.terms[0].name == "preprocess.0");
  CHECK(leaves.terms[1].name == "scale0.0");
  CHECK(leaves.terms[1].type == "Squeeze");
  CHECK(leaves.terms[1].shape_out == Shape{4, 2, 2});
  CHECK(leaves.terms[2].name == "scale0.1.0");
  CHECK(leaves.terms[2].type == "ActNorm");
  CHECK(leaves.terms[8].name == "split0");
  CHECK(leaves.terms[8].shape_out == Shape{2, 2, 2});
  CHECK(leaves.terms[9].name == "scale1.0");
  CHECK(leaves.terms[9].scale == 1);
  CHECK(leaves.terms.back().shape_out == Shape{8, 1, 1});
  // Steps: one row per Glow step.
  CHECK(steps.terms.size() == 1 + 2 * (1 + 2) + 1 + 1);
  CHECK(steps.terms[2].name == "scale0.1");
  CHECK(steps.terms[2].type.rfind("Chain(ActNorm,InvConv1x1LU,Coupling(SigmoidAffine))", 0) == 0);
  // A step's row is the sum of its three layers' rows.
  for (std::size_t i = 0; i < 5; ++i) {
    const double parts = leaves.terms[2].per_sample[i] + leaves.terms[3].per_sample[i] + leaves.terms[4].per_sample[i];
    CHECK(steps.terms[2].per_sample[i] == Approx(parts).epsilon(1e-12).margin(1e-12));
    CHECK(steps.log_prob[i] == leaves.log_prob[i]);
  }
  LogdetSummary a(model->dims()), b(model->dims());
  a.add(leaves);
  b.add(steps);
  CHECK(std::abs(a.sum_of_terms_bpd() - b.sum_of_terms_bpd()) <= 1e-12);
  // A summary refuses a batch with different rows.
  CHECK_THROWS_WITH(a.add(steps), Catch::Contains("terms"));
  CHECK_THROWS_WITH(logdet_breakdown(*model, Var64(Tensor64(Shape{2, 1, 8, 8}))), Catch::Contains("(B, 1, 4, 4)"));
}

TEST_CASE("logdet breakdown: float32 log_prob reproduced bit for bit, summary over batches", "[flows][breakdown]") {
  for (const TinyPreset& p : fz::testing::tiny_image_presets()) {
    SECTION(p.name) {
      Rng rng(14);
      auto model = prepared<float>(p, rng);
      NoGradGuard no_grad;
      LogdetSummary summary(model->dims(), 5);
      double expected_total = 0, expected_lp = 0;
      std::size_t n = 0;
      for (std::size_t batch : {3, 7}) {
        const Tensor32 x = rng.uniform<float>(batch_shape(batch, p.config.event_shape), float(p.lo), float(p.hi));
        const Tensor32 lp = model->log_prob(Var32(x)).value();
        const LogdetBreakdown<float> b = logdet_breakdown(*model, Var32(x));
        REQUIRE(b.log_prob.to_vector() == lp.to_vector());  // the same additions in the same order
        summary.add(b);
        for (std::size_t i = 0; i < batch; ++i) {
          expected_total += bits_per_dim(static_cast<double>(lp[i]), model->dims(), 5);
          expected_lp += static_cast<double>(lp[i]);
        }
        n += batch;
      }
      CHECK(summary.count() == 10);
      CHECK(summary.constant_bpd() == 5.0);
      CHECK(summary.total_bpd() == expected_total / static_cast<double>(n));
      CHECK(summary.mean_log_prob() == expected_lp / static_cast<double>(n));
      // In float32 the terms' sum agrees to float rounding of the per-term log-dets.
      CHECK(std::abs(summary.sum_of_terms_bpd() - summary.total_bpd()) <= 1e-5);
    }
  }
}
