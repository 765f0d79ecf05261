// tests/flows/test_density_integral.cpp — a 2-D flow is a normalised density: each 2-D preset,
// trained for a few hundred steps on two moons (so it is no longer the base distribution),
// integrates exp(log p) to 1 over the plane.
//
// The integral is the midpoint rule on a 400 x 400 grid over [-8, 8]^2, plus the mass outside
// the box, estimated from 20,000 of the model's own samples. Tolerance 0.005: the grid error of
// the midpoint rule is O(h^2) (checked here by the 200 x 200 grid agreeing within 0.003; the
// fine grid's error is about a quarter of that), the tail estimate's standard error is below
// 0.002 (it is 0 here: no sample leaves the box), so a correct model lands inside it (measured:
// 0.99992 to 1.00000), while a log-det off by a constant delta scales the integral by e^delta
// (caught for |delta| > 0.005 nats) and a missing or wrongly signed Jacobian term moves it far
// more.
#include <catch2/catch.hpp>

#include <cmath>

#include "datasets/toy2d.hpp"
#include "flows/presets.hpp"
#include "flows/trainer.hpp"
#include "tests/flows/tiny_presets.hpp"

using namespace fz;
using namespace fz::testing;

namespace {

// Midpoint rule of exp(log p) over [lo, hi]^2 with n x n cells.
double grid_integral(FlowModel<double>& model, double lo, double hi, std::size_t n) {
  NoGradGuard no_grad;
  const double cell = (hi - lo) / double(n);
  double total = 0;
  Tensor64 row({n, 2});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      row[2 * j] = lo + (double(j) + 0.5) * cell;
      row[2 * j + 1] = lo + (double(i) + 0.5) * cell;
    }
    const Tensor64 lp = model.log_prob(Var64(row)).value();
    for (std::size_t j = 0; j < n; ++j) total += std::exp(lp[j]);
  }
  return total * cell * cell;
}

}  // namespace

TEST_CASE("density: every trained 2-D preset integrates to 1 over the plane", "[flows][density]") {
  for (const TinyPreset& p : tiny_presets()) {
    if (p.config.event_shape.size() != 1) continue;
    SECTION(p.name) {
      Rng init(5);
      PresetConfig config = p.config;
      // ffjord: the integral needs 1e-3 accuracy, not the round trips' 1e-9 (and 10x fewer steps).
      if (config.model == "ffjord") config.ode_rtol = config.ode_atol = 1e-5;
      auto model = make_flow<double>(config, init);
      TrainerOptions options;
      options.lr = 5e-3;
      Trainer<double> trainer(model, options, 5);
      double first = 0, last = 0;
      for (std::size_t step = 1; step <= 300; ++step) {
        const StepStats s = trainer.step_continuous(sample_toy2d<double>(Toy2D::Moons, 128, step));
        if (step == 1) first = s.loss;
        last = s.loss;
      }
      INFO(p.name << ": nll " << first << " -> " << last);
      REQUIRE(last < first - 0.3);  // it learned: the density is not the base's any more

      model->eval();
      const double lo = -8, hi = 8;
      const double coarse = grid_integral(*model, lo, hi, 200);
      const double fine = grid_integral(*model, lo, hi, 400);
      Rng sample_rng(77);
      const std::size_t n = 20000;
      const Tensor64 samples = model->sample(n, 1.0, sample_rng);
      std::size_t outside = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double a = samples[2 * i], b = samples[2 * i + 1];
        if (!(a >= lo && a <= hi && b >= lo && b <= hi)) ++outside;
      }
      const double tail = double(outside) / double(n);
      INFO("integral over the box: " << fine << " (200x200 grid: " << coarse << "), mass outside "
                                      << tail);
      CHECK(std::abs(fine - coarse) < 0.003);
      CHECK(std::abs(fine + tail - 1.0) < 0.005);
    }
  }
}

// NSF on two moons (the preset at its default size: 8 spline couplings, 8 bins on [-3, 3],
// MLP 1 -> 64 x 2) is a normalised density too, over [-6, 6]^2 as the issue states it: the box
// holds the tails' mass as well (every sample drawn lands inside), so the grid integral alone
// must be 1 within 1%. The spline's identity tails start at |x| = 3: the box crosses them, so
// a log-derivative wrong inside or outside the spline shows. Measured when written: 1.00005 on
// the 300 x 300 grid (0.9958 on 150 x 150: the midpoint rule's h^2 error, a quarter of it left
// at the fine grid), no sample outside the box.
TEST_CASE("density: the trained nsf density on two moons integrates to 1 over [-6, 6]^2", "[flows][density]") {
  PresetConfig config;
  config.model = "nsf";
  config.event_shape = {2};
  config.hidden = 32;
  Rng init(5);
  auto model = make_flow<double>(config, init);
  TrainerOptions options;
  options.lr = 3e-3;
  Trainer<double> trainer(model, options, 5);
  double first = 0, last = 0;
  for (std::size_t step = 1; step <= 200; ++step) {
    const StepStats s = trainer.step_continuous(sample_toy2d<double>(Toy2D::Moons, 128, step));
    if (step == 1) first = s.loss;
    last = s.loss;
  }
  INFO("nll " << first << " -> " << last);
  REQUIRE(last < first - 0.5);  // it learned the moons, far from the base
  model->eval();
  const double coarse = grid_integral(*model, -6, 6, 150);
  const double fine = grid_integral(*model, -6, 6, 300);
  Rng sample_rng(78);
  const std::size_t n = 5000;
  const Tensor64 samples = model->sample(n, 1.0, sample_rng);
  std::size_t outside = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (std::abs(samples[2 * i]) > 6 || std::abs(samples[2 * i + 1]) > 6) ++outside;
  INFO("integral over [-6, 6]^2: " << fine << " (150x150 grid: " << coarse << "), samples outside " << outside);
  CHECK(std::abs(fine - coarse) < 0.01);
  CHECK(outside < n / 200);
  CHECK(std::abs(fine - 1.0) < 0.01);
}
