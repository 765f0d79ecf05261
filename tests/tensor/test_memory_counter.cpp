// tests/tensor/test_memory_counter.cpp — the counts of tensor bytes alive (tensor/memory_counter.hpp):
// a buffer counts from allocation to its last sharer's release, under the kind it is marked with;
// the peak keeps the split of the moment the total was highest.
#include <catch2/catch.hpp>

#include "tensor/memory_counter.hpp"
#include "tensor/tensor.hpp"

using namespace fz;

TEST_CASE("memory counter: buffers count from allocation to release, by kind, and the peak keeps its split",
          "[tensor][memory-counter]") {
  const TensorMemoryCountingScope counting;
  const TensorBytes base = tensor_memory().live;
  auto grown = [&](MemoryKind k) { return tensor_memory().live[k] - base[k]; };
  reset_tensor_memory_peak();
  {
    Tensor32 a(Shape{1000});  // 4000 bytes of activation
    CHECK(grown(MemoryKind::activation) == 4000);
    Tensor32 shared = a.reshape(Shape{10, 100});  // no new buffer
    CHECK(grown(MemoryKind::activation) == 4000);
    Tensor64 b(Shape{500});  // 4000 more
    CHECK(grown(MemoryKind::activation) == 8000);
    set_memory_kind(b, MemoryKind::parameter_state);
    CHECK(memory_kind(shared) == MemoryKind::activation);
    CHECK(memory_kind(b) == MemoryKind::parameter_state);
    CHECK(grown(MemoryKind::activation) == 4000);
    CHECK(grown(MemoryKind::parameter_state) == 4000);
    Tensor32 c = b.cast<float>();  // a fresh buffer is an activation again: kinds are not inherited
    CHECK(memory_kind(c) == MemoryKind::activation);
    TensorU8 d(Shape{3000});
    set_memory_kind(d, MemoryKind::data);
    CHECK(grown(MemoryKind::data) == 3000);
    a = Tensor32();  // `shared` still holds the buffer
    CHECK(grown(MemoryKind::activation) == 4000 + 2000);
    // The peak so far: everything above at once, 4000 + 2000 activation, 4000 state, 3000 data.
    const TensorMemory m = tensor_memory();
    CHECK(m.at_peak.total() - base.total() == 13000);
    CHECK(m.at_peak[MemoryKind::parameter_state] - base[MemoryKind::parameter_state] == 4000);
    CHECK(m.at_peak[MemoryKind::data] - base[MemoryKind::data] == 3000);
    CHECK(m.peak_activation >= base[MemoryKind::activation] + 8000);  // a and b, before b was marked
  }
  CHECK(tensor_memory().live[MemoryKind::activation] == base[MemoryKind::activation]);
  CHECK(tensor_memory().live[MemoryKind::parameter_state] == base[MemoryKind::parameter_state]);
  CHECK(tensor_memory().live[MemoryKind::data] == base[MemoryKind::data]);
  // A new window starts from what is alive now.
  reset_tensor_memory_peak();
  CHECK(tensor_memory().at_peak.total() == tensor_memory().live.total());
  set_memory_kind(Tensor32(), MemoryKind::data);  // undefined: nothing to mark, no throw
  CHECK(memory_kind(Tensor32()) == MemoryKind::activation);
}
