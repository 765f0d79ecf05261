// tensor/memory_counter.cpp — the process-wide counts of tensor bytes alive, by kind.
#include "tensor/memory_counter.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace fz {

namespace {

struct Buffer {
  std::size_t bytes;
  MemoryKind kind;
};

struct Counts {
  std::mutex mutex;
  TensorMemory memory;
  std::unordered_map<const void*, Buffer> buffers;  // every live, non-empty buffer by data pointer
};

// Never destroyed: tensors held by static objects are released after main returns, when a
// destroyed counter would be touched.
Counts& counts() {
  static Counts* c = new Counts();
  return *c;
}

// Whether allocations are counted now, and how many counted buffers are alive (frees look a
// buffer up only while some are).
std::atomic<bool> counting{false};
std::atomic<std::size_t> counted_buffers{0};

std::size_t index(MemoryKind k) { return static_cast<std::size_t>(k); }

// After the live counts rose: a new high of the total keeps the split of this moment.
void note_peaks(TensorMemory& m) {
  if (m.live.total() > m.at_peak.total()) m.at_peak = m.live;
  if (m.live[MemoryKind::activation] > m.peak_activation) m.peak_activation = m.live[MemoryKind::activation];
}

}  // namespace

std::string memory_kind_name(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::activation: return "activation";
    case MemoryKind::parameter_state: return "parameter state";
    case MemoryKind::data: return "data";
  }
  return "activation";
}

std::size_t TensorBytes::total() const {
  std::size_t sum = 0;
  for (std::size_t b : by_kind) sum += b;
  return sum;
}

void set_tensor_memory_counting(bool on) { counting.store(on, std::memory_order_relaxed); }
bool tensor_memory_counting() { return counting.load(std::memory_order_relaxed); }

TensorMemory tensor_memory() {
  Counts& c = counts();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.memory;
}

void reset_tensor_memory_peak() {
  Counts& c = counts();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.memory.at_peak = c.memory.live;
  c.memory.peak_activation = c.memory.live[MemoryKind::activation];
}

template <typename T>
MemoryKind memory_kind(const Tensor<T>& t) {
  if (!t.defined() || t.numel() == 0 || counted_buffers.load(std::memory_order_relaxed) == 0)
    return MemoryKind::activation;
  Counts& c = counts();
  std::lock_guard<std::mutex> lock(c.mutex);
  const auto it = c.buffers.find(t.data());
  return it == c.buffers.end() ? MemoryKind::activation : it->second.kind;
}

template <typename T>
void set_memory_kind(const Tensor<T>& t, MemoryKind kind) {
  if (!t.defined() || t.numel() == 0 || counted_buffers.load(std::memory_order_relaxed) == 0) return;
  Counts& c = counts();
  std::lock_guard<std::mutex> lock(c.mutex);
  const auto it = c.buffers.find(t.data());
  if (it == c.buffers.end() || it->second.kind == kind) return;
  c.memory.live.by_kind[index(it->second.kind)] -= it->second.bytes;
  c.memory.live.by_kind[index(kind)] += it->second.bytes;
  it->second.kind = kind;
  // At the peak right now (a buffer marked just after its allocation): the peak's split is this
  // moment's, relabelled.
  if (c.memory.live.total() >= c.memory.at_peak.total()) c.memory.at_peak = c.memory.live;
  note_peaks(c.memory);
}

namespace detail {

void count_tensor_allocation(const void* data, std::size_t bytes) {
  if (bytes == 0 || !counting.load(std::memory_order_relaxed)) return;
  Counts& c = counts();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.buffers[data] = Buffer{bytes, MemoryKind::activation};
  counted_buffers.fetch_add(1, std::memory_order_relaxed);
  c.memory.live.by_kind[index(MemoryKind::activation)] += bytes;
  ++c.memory.allocations;
  note_peaks(c.memory);
}

void count_tensor_release(const void* data, std::size_t bytes) {
  if (bytes == 0 || counted_buffers.load(std::memory_order_relaxed) == 0) return;
  Counts& c = counts();
  std::lock_guard<std::mutex> lock(c.mutex);
  const auto it = c.buffers.find(data);
  if (it == c.buffers.end()) return;
  c.memory.live.by_kind[index(it->second.kind)] -= it->second.bytes;
  c.buffers.erase(it);
  counted_buffers.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace detail

template MemoryKind memory_kind<float>(const Tensor<float>&);
template MemoryKind memory_kind<double>(const Tensor<double>&);
template MemoryKind memory_kind<std::uint8_t>(const Tensor<std::uint8_t>&);
template void set_memory_kind<float>(const Tensor<float>&, MemoryKind);
template void set_memory_kind<double>(const Tensor<double>&, MemoryKind);
template void set_memory_kind<std::uint8_t>(const Tensor<std::uint8_t>&, MemoryKind);

}  // namespace fz
