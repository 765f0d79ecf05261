// examples/tutorial_1_change_of_variables.cpp — docs/tutorial.md, section 1 "Change of
// variables".
//
// A 2-D flow z = f(x) (the "realnvp" preset's vector form, briefly trained on two moons) gives
//     log p(x) = log p_Z(f(x)) + log|det df/dx|.
// This program shows the two facts that formula rests on:
//   1. the log|det J| the flow computes by its formula equals log|det| of the Jacobian taken by
//      finite differences (nothing but nudged calls of f), at a few points;
//   2. p(x) integrates to 1 over the plane, and the same density without the log|det J| term,
//      p_Z(f(x)) alone, does not: the determinant is the volume correction.
//
//   build/examples/tutorial_1_change_of_variables [out_dir=.]
// Writes tutorial_1_density.png: p(x) next to p_Z(f(x)) without the determinant, on the data's
// region.
#include <cmath>
#include <cstdio>
#include <string>

#include "datasets/image_write.hpp"
#include "datasets/labelled_grid.hpp"
#include "examples/tutorial_common.hpp"
#include "flows/presets.hpp"

using namespace fz;
using namespace fz::tutorial;

int main(int argc, char** argv) {
  const std::string out_dir = argc > 1 ? argv[1] : ".";
  PresetConfig config;
  config.model = "realnvp";
  config.event_shape = {2};
  config.couplings = 4;
  Rng init_rng(0);
  auto model = make_flow<double>(config, init_rng);
  warm_up_on_moons(model, 300);

  // 1. The formula against finite differences, point by point.
  const Tensor64 points = sample_toy2d<double>(Toy2D::Moons, 5, 11);
  Encoding<double> enc;
  {
    NoGradGuard no_grad;
    enc = model->encode(Var64(points));
  }
  std::printf("log|det df/dx| of a 4-coupling RealNVP at 5 points of two moons\n");
  std::printf("%8s %8s  %14s  %14s  %9s\n", "x1", "x2", "formula", "finite diff.", "|diff|");
  for (std::size_t i = 0; i < 5; ++i) {
    const double formula = enc.logdet.value()[i];
    const double numeric = log_abs_det(jacobian_at(encoder_of(*model), sample_row(points, i)));
    std::printf("%8.4f %8.4f  %14.9f  %14.9f  %9.2e\n", points[2 * i], points[2 * i + 1], formula, numeric,
                std::fabs(formula - numeric));
  }

  // 2. Integrals over [-5, 5]^2 by the midpoint rule on 400 x 400 cells (the moons lie in
  // about [-1, 2] x [-0.6, 1.1]; the mass outside the square is negligible).
  const std::size_t grid = 400, chunk = 8000;
  const double lo = -5, hi = 5, cell = (hi - lo) / grid;
  const Tensor64 centers = density_grid(PlotRange{lo, hi, lo, hi}, grid, grid);
  double with_det = 0, without_det = 0;
  for (std::size_t start = 0; start < grid * grid; start += chunk) {
    Tensor64 x(Shape{chunk, 2});
    for (std::size_t j = 0; j < 2 * chunk; ++j) x[j] = centers[2 * start + j];
    NoGradGuard no_grad;
    const Encoding<double> e = model->encode(Var64(x));
    for (std::size_t i = 0; i < chunk; ++i) {
      with_det += std::exp(e.latent_log_prob.value()[i] + e.logdet.value()[i]);
      without_det += std::exp(e.latent_log_prob.value()[i]);
    }
  }
  std::printf("\nintegral over [-5,5]^2 (%zux%zu midpoint rule)\n", grid, grid);
  std::printf("  of p(x) = p_Z(f(x)) |det df/dx|:  %.5f\n", with_det * cell * cell);
  std::printf("  of p_Z(f(x)) alone (no det):     %.5f\n", without_det * cell * cell);

  // The picture: both functions on the data's region, side by side (each scaled to its maximum).
  const PlotRange view{-1.5, 2.5, -1.25, 1.75};
  const std::size_t w = 240, h = 180;
  Encoding<double> view_enc;
  {
    NoGradGuard no_grad;
    view_enc = model->encode(Var64(density_grid(view, w, h)));
  }
  LabelledGrid picture;
  picture.title = "change of variables";
  picture.row_labels = {"2-D RealNVP"};
  picture.column_labels = {"p(x) = p_Z(f(x)) |det df/dx|", "p_Z(f(x)) alone"};
  picture.cells = {{density_heatmap(view_enc.log_prob().value().reshape({h, w})),
                    density_heatmap(view_enc.latent_log_prob.value().reshape({h, w}))}};
  const std::string png = out_dir + "/tutorial_1_density.png";
  write_labelled_grid_png(png, picture);
  std::printf("wrote %s\n", png.c_str());
  return 0;
}
