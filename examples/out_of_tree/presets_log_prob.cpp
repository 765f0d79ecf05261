// examples/out_of_tree/presets_log_prob.cpp — a program outside the flowzoo tree, built against
// the installed library with nothing but `pkg-config --cflags --libs flowzoo` (see the Makefile
// next to it; scripts/install_check.sh builds and runs it, linked shared and static).
//
// It builds the 2-D RealNVP preset (flows/presets.hpp), trains it briefly on two moons, and
// prints what a user would check: the loss going down, log p(x) at a few points, the round
// trip decode(encode(x)) = x, and that exp(log p) integrates to 1 over the plane (midpoint rule
// on a 200 x 200 grid over [-8, 8]^2). The sum runs through xtensor expressions over the
// tensors (tensor/xtensor_view.hpp), so user code compiles xtensor's inline SIMD code too.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <xtensor/xmath.hpp>

#include <flowzoo/datasets/toy2d.hpp>
#include <flowzoo/flows/presets.hpp>
#include <flowzoo/flows/trainer.hpp>
#include <flowzoo/tensor/xtensor_view.hpp>

using namespace fz;

int main() {
  PresetConfig config;
  config.model = "realnvp";
  config.event_shape = {2};
  config.couplings = 4;
  config.hidden = 32;
  Rng init(7);
  auto model = make_flow<double>(config, init);
  std::printf("realnvp on 2-D two moons: %zu parameters\n", model->num_parameters());

  TrainerOptions options;
  options.lr = 5e-3;
  Trainer<double> trainer(model, options, 7);
  const std::size_t steps = 200;
  for (std::size_t step = 1; step <= steps; ++step) {
    const StepStats s = trainer.step_continuous(sample_toy2d<double>(Toy2D::Moons, 128, step));
    if (step == 1 || step == steps) std::printf("nll at step %zu: %.6f\n", step, s.loss);
  }
  model->eval();
  NoGradGuard no_grad;

  const Tensor<double> points({4, 2}, {0.0, 0.0, 1.0, -0.5, -1.0, 0.5, 4.0, 4.0});
  const Tensor<double> lp = model->log_prob(Var<double>(points)).value();
  for (std::size_t i = 0; i < 4; ++i)
    std::printf("log p(%g, %g) = %.6f\n", points[2 * i], points[2 * i + 1], lp[i]);

  const Encoding<double> z = model->encode(Var<double>(points));
  const Tensor<double> back = model->decode(z.latents).value.value();
  double round_trip = 0;
  for (std::size_t i = 0; i < points.numel(); ++i)
    round_trip = std::max(round_trip, std::abs(back[i] - points[i]));
  std::printf("round trip max |x - decode(encode(x))|: %.3g\n", round_trip);

  const std::size_t n = 200;
  const double lo = -8, hi = 8, cell = (hi - lo) / double(n);
  Tensor<double> row({n, 2});
  double integral = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      row[2 * j] = lo + (double(j) + 0.5) * cell;
      row[2 * j + 1] = lo + (double(i) + 0.5) * cell;
    }
    const Tensor<double> row_lp = model->log_prob(Var<double>(row)).value();
    integral += xt::sum(xt::exp(xview(row_lp)))() * cell * cell;
  }
  std::printf("integral of p over [-8, 8]^2: %.6f\n", integral);
  return 0;
}
