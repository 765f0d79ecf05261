// tensor/parallel.hpp — the one place that decides whether work is split across cores.
//
// Small tensors must not pay TBB's scheduling cost, so parallel_for runs serially below a
// grain size. Chunk boundaries depend only on n and the grain (never on timing), which keeps
// reductions that combine per-chunk partial results deterministic.
#pragma once

#include <cstddef>
#include <functional>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace fz {

// Elementwise kernels split above this many elements (per thread chunk at least this big).
constexpr std::size_t kParallelGrain = 32768;

// Caps the number of worker threads for the rest of the process (0 = all cores).
void set_num_threads(int n);
// Threads TBB will use right now.
int num_threads();

// Calls body(begin, end) over [0, n) in chunks of at least `grain`; serial when n <= grain.
template <typename Body>
void parallel_for(std::size_t n, std::size_t grain, const Body& body) {
  if (n == 0) return;
  if (n <= grain || num_threads() <= 1) {
    body(std::size_t(0), n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain),
                    [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); },
                    tbb::simple_partitioner());
}

}  // namespace fz
