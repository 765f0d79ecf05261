// cli/finite_state.hpp — is a trainer's state fit to be saved? A checkpoint must never hold
// NaN or infinity: a run that diverges keeps its last finite checkpoint instead of replacing it
// by one that evaluates to NaN and diverges again on --resume. Checked before every save
// (cli/train.cpp): the model's parameters and buffers, the optimiser's state (Adam's moments),
// the Polyak averages, the loss of the last step, and the model's log-density of its last
// batch.
#pragma once

#include <string>
#include <vector>
#include <cstdint>

#include "flows/trainer.hpp"

namespace fz::cli {

// Empty when every value is finite; otherwise one phrase naming the first offender, e.g.
// "model tensor model.flow.0.scale holds nan (element 3)" or "the last loss is inf".
std::string non_finite_state(Trainer<float>& trainer, double last_loss);

// Finite parameters can still overflow (a huge SGD step): such a checkpoint evaluates to NaN
// and diverges again at once on --resume. Empty when the model, in eval mode and without
// gradients, gives a finite log-density to every row of `batch` (continuous data, or
// dequantized images) with its raw parameters and, if on, with its Polyak averages;
// otherwise names the first failing row. Changes no state (no RNG draw, no buffer update).
std::string non_finite_log_prob(Trainer<float>& trainer, const Tensor<float>& batch);
// The same for a class-conditional model: log p(x | y) with the batch's labels.
std::string non_finite_log_prob(Trainer<float>& trainer, const Tensor<float>& batch,
                                const std::vector<std::int32_t>& labels);

}  // namespace fz::cli
