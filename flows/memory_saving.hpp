// flows/memory_saving.hpp — training a Chain of bijectors without storing its activations.
//
//   none         every op of every layer stays on the tape until the reverse pass (default).
//   checkpoint   each layer is a checkpointed segment (autograd/checkpoint.hpp): the tape keeps
//                each layer's input and output only; the layer's forward re-runs in backward.
//   invertible   the whole chain is ONE segment that keeps only the chain's input and its final
//                output and log-det. Its backward walks the layers last to first: the layer's
//                input is rebuilt from its output with inverse() (no-grad), the layer's forward
//                re-runs on it locally recorded, the output gradient and the log-det's are
//                backpropagated through it, and the local recording is freed before the next
//                layer back. Activation memory: one layer's worth at a time.
// Cost of both: one extra forward per layer; invertible adds one inverse per layer. Layers whose
// inverse is inexact (bisection, fixed-point iteration, ODE solve) make invertible mode's
// gradients approximate: the reconstruction error, max |forward(x_rec) - y| per layer, is kept
// in ReconstructionStats (the first layer's input is the held data, never rebuilt).
// Layers must compute the same function when re-run: a layer with a random training-mode
// log-det (the residual flow's estimator) or with state that forward changes (batch norm's
// running statistics) gets different or doubly-updated results. ActNorm's data-dependent
// initialisation is fine: it happens in the first (no-grad) forward and the re-run sees the
// initialised parameters. docs/how-the-tape-works.md, "Recomputing instead of storing".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bijector.hpp"

namespace fz {

enum class MemorySaving { none, checkpoint, invertible };

// "none", "checkpoint", "invertible"; parse returns nullopt for anything else.
std::string memory_saving_name(MemorySaving mode);
std::optional<MemorySaving> parse_memory_saving(const std::string& name);

// Invertible mode's record of how well the inverses rebuilt the layers' inputs.
struct ReconstructionStats {
  // Per layer: the largest max |forward(x_rec) - y| over every backward so far (0 for layer 0).
  std::vector<double> max_error;
  double worst() const;
};

// Chain::forward in checkpoint mode: every layer a segment.
template <typename T>
Transformed<T> checkpointed_chain_forward(const std::vector<std::shared_ptr<Bijector<T>>>& layers,
                                          const Var<T>& x);

// Chain::forward in invertible mode; `stats` (may be null) collects reconstruction errors.
template <typename T>
Transformed<T> invertible_chain_forward(const std::vector<std::shared_ptr<Bijector<T>>>& layers,
                                        const Var<T>& x,
                                        const std::shared_ptr<ReconstructionStats>& stats);

}  // namespace fz

namespace fz {

template <typename T>
class FlowModel;

// Sets `mode` on every scale's chain of `model` (the preprocessing chain, parameter-free and
// cheap, stays as it is).
template <typename T>
void set_memory_saving(FlowModel<T>& model, MemorySaving mode);

// The worst per-layer reconstruction error over the model's chains so far (0 unless invertible).
template <typename T>
double worst_reconstruction_error(const FlowModel<T>& model);

}  // namespace fz
