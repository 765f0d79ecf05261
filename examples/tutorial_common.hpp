// examples/tutorial_common.hpp — the few helpers the tutorial's examples share
// (docs/tutorial.md; examples/tutorial_<n>_<topic>.cpp): a layer or a whole model as a plain
// function of one sample, its Jacobian by central differences (autograd/gradcheck.hpp's
// numeric_jacobian) and that matrix's log|det| by LU (tensor/linalg.hpp's slogdet), a short
// maximum-likelihood warm-up on two moons, and matrix printing.
//
// The finite-difference side never looks at the log-dets a layer returns: it only calls the
// layer's forward on nudged inputs, so agreeing with it is an independent check of the formula.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>

#include "autograd/grad_mode.hpp"
#include "autograd/gradcheck.hpp"
#include "datasets/toy2d.hpp"
#include "flows/bijector.hpp"
#include "flows/flow_model.hpp"
#include "flows/trainer.hpp"
#include "tensor/linalg.hpp"

namespace fz::tutorial {

using SampleMap = std::function<Tensor64(const Tensor64&)>;

// Row i of a (B, D) tensor as a (1, D) tensor (one sample, still a batch).
inline Tensor64 sample_row(const Tensor64& x, std::size_t i) {
  const std::size_t d = x.shape()[1];
  Tensor64 row(Shape{1, d});
  for (std::size_t j = 0; j < d; ++j) row[j] = x[i * d + j];
  return row;
}

// A bijector's forward as a plain function of its input (values only, no tape).
inline SampleMap forward_of(Bijector<double>& layer) {
  return [&layer](const Tensor64& x) {
    NoGradGuard no_grad;
    return layer.forward(Var64(x)).value.value();
  };
}

// A single-scale model's data -> latent map (preprocessing, if any, and its one chain).
inline SampleMap encoder_of(FlowModel<double>& model) {
  return [&model](const Tensor64& x) {
    NoGradGuard no_grad;
    return model.encode(Var64(x)).latents.back().value();
  };
}

// d map(x) / d x at one (1, D) sample, D x D, by central differences.
inline Tensor64 jacobian_at(const SampleMap& map, const Tensor64& sample) {
  return numeric_jacobian(map, sample, 1e-6);
}

// log|det J| of a square matrix, by LU with pivoting.
inline double log_abs_det(const Tensor64& jacobian) { return slogdet(jacobian).logabsdet; }

// A few hundred maximum-likelihood steps on fresh two-moons batches (Adam, lr 1e-3), so the
// maps the examples look at are a trained flow's, not an initialisation's.
template <typename T>
void warm_up_on_moons(const std::shared_ptr<FlowModel<T>>& model, std::size_t steps, std::size_t batch = 256) {
  Trainer<T> trainer(model, TrainerOptions{}, /*seed=*/0);
  for (std::size_t step = 1; step <= steps; ++step)
    trainer.step_continuous(sample_toy2d<T>(Toy2D::Moons, batch, 1000 + step));
  model->eval();
}

// Prints a (rows, cols) matrix, one row a line, with a leading label column.
inline void print_matrix(const char* label, const Tensor64& m) {
  const std::size_t rows = m.shape()[0], cols = m.shape()[1];
  std::printf("%s\n", label);
  for (std::size_t r = 0; r < rows; ++r) {
    std::printf("  ");
    for (std::size_t c = 0; c < cols; ++c) std::printf(" %10.6f", m[r * cols + c]);
    std::printf("\n");
  }
}

}  // namespace fz::tutorial
