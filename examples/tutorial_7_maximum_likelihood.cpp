// examples/tutorial_7_maximum_likelihood.cpp — docs/tutorial.md, section 7 "Maximum likelihood".
//
// Because log p(x) = log p_Z(f(x)) + sum_k log|det J_k| is exact, a flow is trained by
// minimising the negative log-likelihood of the data,
//     NLL = -(1/N) sum_n log p(x_n) = E[-log p_Z(z)] + E[-log|det df/dx|],
// with gradients from the tape (flows/trainer.hpp: Trainer::step_continuous does one Adam step
// on a batch). The two terms pull against each other: -log p_Z wants every z near 0 (shrink),
// -log|det| wants f to expand the data's region (spread).
//
// This program trains the "realnvp" preset's 2-D form (toy-realnvp: 8 affine couplings) on
// fresh two-moons batches of 256 and prints, at a few steps, the NLL of 5,000 held-out points
// (nats) and its two terms; then writes a picture of the density and of 2,000 samples at
// four of those steps.
//
//   build/examples/tutorial_7_maximum_likelihood [steps=1000] [out_dir=.]
// Writes tutorial_7_training.png (rows: density, samples; columns: steps).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "datasets/image_write.hpp"
#include "datasets/labelled_grid.hpp"
#include "examples/tutorial_common.hpp"
#include "flows/presets.hpp"

using namespace fz;

int main(int argc, char** argv) {
  const std::size_t steps = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
  const std::string out_dir = argc > 2 ? argv[2] : ".";
  PresetConfig config;
  config.model = "realnvp";
  config.event_shape = {2};
  Rng init_rng(0);
  auto model = make_flow<float>(config, init_rng);
  Trainer<float> trainer(model, TrainerOptions{}, /*seed=*/0);  // Adam, lr 1e-3

  const Tensor<float> held_out = sample_toy2d<float>(Toy2D::Moons, 5000, 7);
  const PlotRange view{-1.5, 2.5, -1.25, 1.75};
  const std::size_t w = 160, h = 120;
  LabelledGrid picture;
  picture.title = "RealNVP on two moons, trained by maximum likelihood";
  picture.row_labels = {"density", "samples"};
  picture.cells.resize(2);

  std::printf("%6s  %10s  %14s  %16s\n", "step", "test NLL", "E[-log p_Z(z)]", "E[-log|det J|]");
  const std::size_t report[] = {0, 50, 100, 250, 500, steps};  // steps > 500
  std::size_t next = 0;
  for (std::size_t step = 0; step <= steps; ++step) {
    if (step > 0) trainer.step_continuous(sample_toy2d<float>(Toy2D::Moons, 256, 1000 + step));
    while (next < 6 && report[next] < step) ++next;
    if (next == 6 || report[next] != step) continue;
    ++next;
    model->eval();
    NoGradGuard no_grad;
    const Encoding<float> e = model->encode(Var<float>(held_out));
    double base = 0, det = 0;
    for (std::size_t i = 0; i < 5000; ++i) {
      base -= e.latent_log_prob.value()[i] / 5000.0;
      det -= e.logdet.value()[i] / 5000.0;
    }
    std::printf("%6zu  %10.4f  %14.4f  %16.4f\n", step, base + det, base, det);
    if (step == 0 || step == 50 || step == 250 || step == steps) {
      const Tensor<float> grid = density_grid(view, w, h).cast<float>();
      picture.cells[0].push_back(density_heatmap(model->log_prob(Var<float>(grid)).value().reshape({h, w})));
      Rng sample_rng(0, step);
      picture.cells[1].push_back(scatter_image(model->sample(2000, 1.0f, sample_rng), w, h, view));
      picture.column_labels.push_back("step " + std::to_string(step));
    }
    model->train();
  }
  const std::string png = out_dir + "/tutorial_7_training.png";
  write_labelled_grid_png(png, picture);
  std::printf("wrote %s\n", png.c_str());
  return 0;
}
