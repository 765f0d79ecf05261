// flows/memory_estimate.hpp — how much memory a preset needs, from its configuration alone,
// without building it: the exact parameter count and an estimate of the activations a training
// step keeps on the tape (and of the working set of a gradient-free pass) at a batch size.
// The CLI checks these numbers against the machine before it allocates anything a flag or a
// checkpoint's configuration can size (cli/memory_guard.hpp).
//
// The account is per layer and mirrors flows/presets.cpp: for each bijector (ActNorm, 1x1
// convolution, coupling with its conditioner, split, squeeze, preprocessing, base) the number
// of parameters and, per sample, the number of values the step holds for backward. The big
// terms are the conditioner networks' hidden activations: a fused convolution chain
// (conv2d_affine_chain) keeps every layer's convolution output and input planes (the image
// with a zero row and column of padding per image) privately, and an MLP keeps each hidden
// layer's output. The elementwise glue of a coupling (slices, sigmoid, products, the merge) is
// counted as a small multiple of the layer's tensor size. tests/flows/test_memory_estimate.cpp
// checks the parameter count exactly against the built model and the activation estimate
// against the allocator's measurement of a real training step, within a factor of 1.5.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "presets.hpp"

namespace fz {

struct LayerMemory {
  std::string name;          // e.g. "level 1 step 3 coupling (hidden 128 at 4x14x14)"
  double parameters = 0;     // exact count
  double held_values = 0;    // per sample: values the training step holds for backward
  double working_values = 0; // per sample: values alive while it runs without gradients
};

struct MemoryEstimate {
  std::vector<LayerMemory> layers;  // in the order log_prob runs them
  std::size_t batch = 0;
  std::size_t bytes_per_value = 4;  // float32

  // Exact parameter count (FlowModel::num_parameters()) and their bytes.
  double parameters() const;
  double parameter_bytes() const;
  // A training step at `batch`: what the tape holds at the end of the forward pass (its
  // peak over the forward pass), and the extra the backward pass needs on top of it (the
  // largest layer's gradients in flight, with a margin for the kernels' scratch).
  double activation_bytes() const;
  double backward_extra_bytes() const;
  // A gradient-free pass (eval, sample, density) at `batch_size` samples at once: the largest
  // layer's working set plus the values that pass between layers.
  double inference_bytes(std::size_t batch_size) const;
  // The layer holding the most activations (to name it in a refusal).
  const LayerMemory& largest_layer() const;
};

// `config` must be resolved (resolve_preset: defaults filled, shape checked); throws
// std::invalid_argument otherwise, as make_flow would. Never allocates more than the ledger.
MemoryEstimate estimate_memory(const PresetConfig& config, std::size_t batch);

}  // namespace fz
