// tests/flows/test_planar_radial.cpp — the planar and radial flows' invertibility constraints
// under arbitrary raw parameters (w^T u_hat >= -1; beta >= -alpha), the map staying invertible
// there (round trips, finite positive-volume log-dets), and FlowModel::rsample_with_log_prob
// agreeing with the density direction. (Log-dets against the numeric Jacobian and gradients: the
// conformance registry, tests/flows/bijector_registry.cpp.)
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"
#include "flows/bijectors/planar.hpp"
#include "flows/bijectors/radial.hpp"
#include "flows/planar_radial_models.hpp"

using namespace fz;

namespace {

double max_abs_diff(const Tensor64& a, const Tensor64& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("planar: w^T u_hat >= -1 and the map inverts for random raw parameters", "[flows][planar]") {
  Rng rng(7);
  NoGradGuard no_grad;
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t d = 1 + trial % 4;
    // Raw parameters far from the initialisation: sd 3, so w^T u ranges over about +-20.
    PlanarFlow<double> layer(rng.normal<double>({d}, 0.0, 3.0), rng.normal<double>({d}, 0.0, 3.0),
                             rng.normal<double>({1}, 0.0, 3.0));
    const Tensor64 w = layer.named_parameters().front().second.value();
    const Tensor64 uh = layer.u_hat().value();
    double wu = 0;
    for (std::size_t i = 0; i < d; ++i) wu += w[i] * uh[i];
    INFO("trial " << trial << ", w^T u_hat = " << wu);
    // -1 + softplus(w^T u) > -1 exactly; the dot product of the computed u_hat rounds.
    REQUIRE(wu >= -1.0 - 1e-12 * (1 + std::abs(wu)));
    const Tensor64 z = rng.normal<double>({16, d}, 0.0, 3.0);
    const Transformed<double> x = layer.inverse(Var64(z));
    const Transformed<double> back = layer.forward(x.value);
    CHECK(max_abs_diff(back.value.value(), z) < 1e-8 * (1 + std::abs(wu)));
    for (std::size_t b = 0; b < 16; ++b) {
      CHECK(std::isfinite(x.logdet.value()[b]));
      CHECK(std::abs(x.logdet.value()[b] + back.logdet.value()[b]) < 1e-8);
    }
  }
}

TEST_CASE("radial: beta >= -alpha and the map inverts for random raw parameters", "[flows][radial]") {
  Rng rng(8);
  NoGradGuard no_grad;
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t d = 1 + trial % 4;
    RadialFlow<double> layer(rng.normal<double>({d}), rng.normal<double>({1}, 0.0, 3.0),
                             rng.normal<double>({1}, 0.0, 3.0));
    const double alpha = layer.alpha().value()[0], beta = layer.beta().value()[0];
    INFO("trial " << trial << ", alpha " << alpha << ", beta " << beta);
    REQUIRE(alpha > 0);
    REQUIRE(beta >= -alpha);
    const Tensor64 z = rng.normal<double>({16, d}, 0.0, 2.0);
    const Transformed<double> x = layer.inverse(Var64(z));
    const Transformed<double> back = layer.forward(x.value);
    CHECK(max_abs_diff(back.value.value(), z) < 1e-9 * (1 + std::abs(beta) / alpha));
    for (std::size_t b = 0; b < 16; ++b) {
      CHECK(std::isfinite(x.logdet.value()[b]));
      CHECK(std::abs(x.logdet.value()[b] + back.logdet.value()[b]) < 1e-9);
    }
  }
}

TEST_CASE("planar and radial stacks: rsample_with_log_prob is log_prob at the sample, and differentiable",
          "[flows][planar][radial]") {
  for (const std::string kind : {"planar", "radial"}) {
    SECTION(kind) {
      Rng rng(11);
      auto model = make_planar_radial_flow<double>(kind, 6, 2, rng);
      // Move the layers off their near-identity start.
      for (Var64 p : model->parameters())
        for (std::size_t i = 0; i < p.numel(); ++i) p.mutable_value()[i] += rng.normal(0.0, 0.3);
      model->zero_grad();
      auto [x, log_q] = model->rsample_with_log_prob(64, rng);
      Tensor64 density;
      {
        NoGradGuard no_grad;
        density = model->log_prob(x.detach()).value();
      }
      CHECK(max_abs_diff(log_q.value(), density) < 1e-8);
      // Gradients reach every parameter through the sampling path.
      (sum(log_q) + sum(x * Var64(Tensor64({2}, {1.0, -1.0})))).backward();
      for (auto& [name, p] : model->named_parameters()) {
        INFO(name);
        CHECK(p.grad().defined());
      }
    }
  }
}
