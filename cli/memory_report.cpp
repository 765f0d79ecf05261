// cli/memory_report.cpp — the training steps' memory peaks and their report.
#include "cli/memory_report.hpp"

#include <sys/resource.h>

#include <cstdio>

namespace fz::cli {

namespace {

std::string megabytes(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

}  // namespace

void StepMemoryWatch::before_step() {
  if (!started_) {
    setup_peak_ = tensor_memory().at_peak.total();  // never reset before: the peak since start
    started_ = true;
  }
  reset_tensor_memory_peak();
}

void StepMemoryWatch::after_step(std::size_t step) {
  const TensorMemory m = tensor_memory();
  if (worst_step_ == 0 || m.at_peak.total() > worst_.total()) {
    worst_ = m.at_peak;
    worst_step_ = step;
  }
  if (m.peak_activation > peak_activation_) {
    peak_activation_ = m.peak_activation;
    peak_activation_step_ = step;
  }
}

void StepMemoryWatch::after_training() {
  reset_tensor_memory_peak();
  training_done_ = true;
}

std::string StepMemoryWatch::report() const {
  std::string out = "  memory (tensor bytes counted by kind, tensor/memory_counter.hpp; MB = 10^6 bytes):\n";
  if (worst_step_ == 0) {
    out += "    no training step ran\n";
  } else {
    out += "    training steps: peak " + megabytes(worst_.total()) + " (step " + std::to_string(worst_step_) +
           ") = parameter state " + megabytes(worst_[MemoryKind::parameter_state]) + " + activations " +
           megabytes(worst_[MemoryKind::activation]) + " + data " + megabytes(worst_[MemoryKind::data]) + "\n";
    out += "    activations alone peaked at " + megabytes(peak_activation_) + " (step " +
           std::to_string(peak_activation_step_) + ")\n";
  }
  const std::size_t setup = started_ ? setup_peak_ : tensor_memory().at_peak.total();
  out += "    before the first step: peak " + megabytes(setup);
  if (training_done_)
    out += "; after the last (checkpoint, final evaluation, samples): peak " +
           megabytes(tensor_memory().at_peak.total());
  out += "\n";
  if (const std::size_t rss = peak_resident_bytes())
    out += "    process peak resident memory " + megabytes(rss) +
           " (also what tensors do not count: kernel scratch, allocator overhead, code)\n";
  return out;
}

std::size_t peak_resident_bytes() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::size_t>(usage.ru_maxrss) * 1024;  // Linux reports kibibytes
}

}  // namespace fz::cli
