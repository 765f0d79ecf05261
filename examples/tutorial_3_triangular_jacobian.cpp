// examples/tutorial_3_triangular_jacobian.cpp — docs/tutorial.md, section 3 "Why triangular
// Jacobians".
//
// log|det J| of a general D x D Jacobian costs an O(D^3) factorisation per sample. A coupling
// layer is built so that its Jacobian is triangular once the coordinates are ordered
// "conditioning part a first, transformed part b second":
//     J = [ I          0           ]      (y_a = x_a)
//         [ dy_b/dx_a  diag(e^{s}) ]      (y_b = x_b * e^{s(x_a)} + t(x_a))
// and the determinant of a triangular matrix is the product of its diagonal, so
// log|det J| = sum s — O(D), and dy_b/dx_a (the network's derivative) never enters it.
//
// This program takes the first affine coupling of a 4-D RealNVP (the "realnvp" preset's vector
// form at its random initialisation; a = features 0 and 2, b = features 1 and 3), prints its
// Jacobian by finite differences as is and reordered (a, b), the sum of the log-diagonal, the
// layer's own log-det and LU's log|det|; then the Jacobian of two couplings in a row, which is
// dense, while its log-det is still the sum of the two layers' (section 2).
//
//   build/examples/tutorial_3_triangular_jacobian
#include <cmath>
#include <cstdio>

#include "examples/tutorial_common.hpp"
#include "flows/presets.hpp"

using namespace fz;
using namespace fz::tutorial;

int main() {
  PresetConfig config;
  config.model = "realnvp";
  config.event_shape = {4};
  config.couplings = 2;
  config.hidden = 16;
  Rng init_rng(3);
  auto model = make_flow<double>(config, init_rng);
  Chain<double>& chain = *model->scales()[0].flow;
  Bijector<double>& coupling = *chain[0];

  Rng data_rng(5);
  const Tensor64 x = data_rng.normal<double>(Shape{1, 4});
  const Tensor64 jac = jacobian_at(forward_of(coupling), x);
  print_matrix("Jacobian of one coupling, dy/dx (rows y0..y3, columns x0..x3):", jac);

  // Reorder rows and columns as (a, b) = (0, 2, 1, 3): the same determinant, triangular form.
  const std::size_t order[4] = {0, 2, 1, 3};
  Tensor64 reordered(Shape{4, 4});
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 4; ++c) reordered[r * 4 + c] = jac[order[r] * 4 + order[c]];
  print_matrix("the same, coordinates ordered (x0, x2 | x1, x3) = (a | b):", reordered);
  double above_diagonal = 0, log_diagonal = 0;
  for (std::size_t r = 0; r < 4; ++r) {
    for (std::size_t c = r + 1; c < 4; ++c) above_diagonal = std::fmax(above_diagonal, std::fabs(reordered[r * 4 + c]));
    log_diagonal += std::log(std::fabs(reordered[r * 5]));
  }
  double layer_logdet = 0;
  {
    NoGradGuard no_grad;
    layer_logdet = coupling.forward(Var64(x)).logdet.value()[0];
  }
  std::printf("largest |entry| above the diagonal:  %.2e\n", above_diagonal);
  std::printf("sum of log|diagonal|:                %.9f\n", log_diagonal);
  std::printf("the layer's log-det (its formula):   %.9f\n", layer_logdet);
  std::printf("log|det| by LU of the full matrix:   %.9f\n", log_abs_det(jac));

  // Two couplings with alternating parts: each is triangular in its own order, the product is not.
  const Tensor64 jac2 = jacobian_at(forward_of(chain), x);
  print_matrix("\nJacobian of two couplings in a row (y0, y2 now depend on x1, x3: not triangular):", jac2);
  double two_layers = 0;
  {
    NoGradGuard no_grad;
    two_layers = chain.forward(Var64(x)).logdet.value()[0];
  }
  std::printf("log|det| by LU:                      %.9f\n", log_abs_det(jac2));
  std::printf("sum of the two layers' log-dets:     %.9f\n", two_layers);
  return 0;
}
