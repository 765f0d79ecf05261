// cli/memory_report.hpp — `train --memory-report`: where a run's memory goes. The training
// steps' tensor bytes (tensor/memory_counter.hpp) at their highest, split into parameter state
// (parameters, gradients, optimiser moments, the divergence snapshot, averages), activations
// (what the step's forward and backward allocate: tape-saved tensors and temporaries) and data
// (the dataset in memory); the same before the first step and after the last (checkpoint, final
// evaluation, samples); and the process's peak resident memory, which also holds what tensors
// do not count (kernel scratch, the allocator's overhead and fragmentation, code).
#pragma once

#include <cstddef>
#include <string>

#include "tensor/memory_counter.hpp"

namespace fz::cli {

class StepMemoryWatch {
 public:
  // Around each training step: a new peak window, and afterwards the step is kept if its total
  // peak is the highest so far.
  void before_step();
  void after_step(std::size_t step);
  // After the step loop: what follows (checkpoint, evaluation, samples) is one more window.
  void after_training();
  // The report's lines, each starting with two spaces, ending with '\n'. Reads the counters
  // (the window since after_training(), if it was called) and the process's peak resident size.
  std::string report() const;

 private:
  bool started_ = false;
  std::size_t setup_peak_ = 0;   // tensor bytes at their highest before the first step
  std::size_t worst_step_ = 0;   // the step whose total peak was highest (0 = none yet)
  TensorBytes worst_;            // its split at that peak
  std::size_t peak_activation_ = 0, peak_activation_step_ = 0;
  bool training_done_ = false;
};

// The process's peak resident set size in bytes (getrusage), 0 where unknown.
std::size_t peak_resident_bytes();

}  // namespace fz::cli
