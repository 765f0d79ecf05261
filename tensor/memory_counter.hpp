// tensor/memory_counter.hpp — how many bytes of tensor storage are alive, split by what they
// hold, and the highest total since the last reset: where a training step's memory goes.
//
// Every Tensor buffer (tensor/tensor.hpp) is counted from its allocation to the moment its
// last sharer lets go, under one of three kinds:
//   activation       the default: whatever the computation allocates — tape-saved tensors,
//                    temporaries, gradients of intermediate values, batches;
//   parameter_state  what a training run keeps for its whole length and whose size is the
//                    parameter count's: parameters, their gradients, optimiser moments, the
//                    divergence snapshot, Polyak averages (marked by flows/trainer.cpp and
//                    flows/train_snapshot.cpp; a leaf's gradient inherits its value's kind,
//                    autograd/var.cpp);
//   data             a dataset held in memory (marked by the CLI).
// A buffer's kind can be changed while it lives (set_memory_kind); its bytes move to the new
// kind's count. The kind belongs to the buffer, so every Tensor sharing it sees the change. The peak: whenever the total alive exceeds the highest seen since
// reset_tensor_memory_peak(), the split at that moment is kept (TensorMemory::at_peak), so "what
// was alive when memory was highest" is one consistent picture, not per-kind maxima from
// different moments. Separately the highest activation count alone is kept.
//
// Not counted: memory that is not a Tensor buffer (kernels' per-thread scratch, tensor/scratch.hpp;
// std::vector temporaries; the allocator's own overhead and fragmentation), which is why a
// process's resident memory is larger. The counts are process-wide and thread-safe: one mutex
// and one hash-table entry per live buffer (found by its data pointer), taken once per
// allocation and per free.
//
// Counting is off until set_tensor_memory_counting(true) (train --memory-report turns it on
// before it loads anything; tests turn it on around what they measure): always on, the mutex
// and the hash-table node cost 3-5% of a toy-realnvp step (1.59 -> 1.66 ms, 1 thread). Only
// buffers allocated while it is on are counted; those still alive when it is turned off are
// still taken out of the counts when they are freed, so the counts stay consistent across
// on/off windows. While it is off memory_kind is activation and set_memory_kind does nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor.hpp"

namespace fz {

enum class MemoryKind : std::uint8_t { activation = 0, parameter_state = 1, data = 2 };
constexpr std::size_t kMemoryKinds = 3;

// "activation", "parameter state", "data".
std::string memory_kind_name(MemoryKind kind);

// Bytes per kind.
struct TensorBytes {
  std::array<std::size_t, kMemoryKinds> by_kind{};
  std::size_t operator[](MemoryKind k) const { return by_kind[static_cast<std::size_t>(k)]; }
  std::size_t total() const;
};

struct TensorMemory {
  TensorBytes live;                 // alive now
  TensorBytes at_peak;              // alive when the total was highest since the last reset
  std::size_t peak_activation = 0;  // the highest activation bytes alive since the last reset
  std::size_t allocations = 0;      // buffers allocated since the program started
};

// Turns counting on or off (see above), and whether it is on.
void set_tensor_memory_counting(bool on);
bool tensor_memory_counting();
// Counting on for a scope (then back to what it was).
class TensorMemoryCountingScope {
 public:
  TensorMemoryCountingScope() : was_on_(tensor_memory_counting()) { set_tensor_memory_counting(true); }
  ~TensorMemoryCountingScope() { set_tensor_memory_counting(was_on_); }
  TensorMemoryCountingScope(const TensorMemoryCountingScope&) = delete;
  TensorMemoryCountingScope& operator=(const TensorMemoryCountingScope&) = delete;

 private:
  bool was_on_;
};

// The counts now.
TensorMemory tensor_memory();
// Starts a new peak window: the peak becomes what is alive now.
void reset_tensor_memory_peak();

// The kind of the buffer `t` looks at (activation for an undefined or empty tensor), and
// marking it (nothing happens for an undefined or empty tensor).
template <typename T>
MemoryKind memory_kind(const Tensor<T>& t);
template <typename T>
void set_memory_kind(const Tensor<T>& t, MemoryKind kind);

namespace detail {
// Called by Tensor's storage (tensor/tensor.cpp) only: a buffer of `bytes` at `data` was
// allocated (counted as an activation) / is being freed. Empty buffers are not counted.
void count_tensor_allocation(const void* data, std::size_t bytes);
void count_tensor_release(const void* data, std::size_t bytes);
}  // namespace detail

extern template MemoryKind memory_kind<float>(const Tensor<float>&);
extern template MemoryKind memory_kind<double>(const Tensor<double>&);
extern template MemoryKind memory_kind<std::uint8_t>(const Tensor<std::uint8_t>&);
extern template void set_memory_kind<float>(const Tensor<float>&, MemoryKind);
extern template void set_memory_kind<double>(const Tensor<double>&, MemoryKind);
extern template void set_memory_kind<std::uint8_t>(const Tensor<std::uint8_t>&, MemoryKind);

}  // namespace fz
