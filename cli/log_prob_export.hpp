// cli/log_prob_export.hpp — `eval --log-probs FILE`: the model's log-likelihood of each
// evaluated example, with the exact inputs it was given, in one safetensors file, so another
// implementation (python/flowzoo_torch.py) can be checked against flowzoo example by example:
//   "inputs"   (N, event...) float32: the continuous points the model saw — for images the
//              dequantized pixels (pixel + u) / 2^bits in [0, 1), u ~ U[0, 1) drawn from the
//              run's seed; for 2-D data the points themselves
//   "log_prob" (N,) float32: log p(inputs) in nats under the continuous density, every
//              preprocessing log-det included (no 2^bits discretisation term), computed in
//              eval mode with the Polyak averages when the run kept them (as eval's numbers)
// and metadata flowzoo.step, flowzoo.dims, flowzoo.bits. Written atomically.
#pragma once

#include <string>

#include "cli/loaded_run.hpp"

namespace fz::cli {

void write_log_probs(const std::string& path, LoadedRun& run, const Tensor<float>& inputs, int bits);

}  // namespace fz::cli
