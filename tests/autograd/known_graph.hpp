// tests/autograd/known_graph.hpp — the small graph whose tape the inspector and profiler
// tests work out by hand, and a guard that leaves the tape empty after a test.
#pragma once

#include <vector>

#include "autograd/ops.hpp"

namespace fz::testing {

// x (2,3) requires grad = L0, w (4) constant = L1:
//   #0 exp(x) (2,3) | #1 reshape -> (6) | #2,#3 split (2),(4) | #4 p1 * w | #5 sum | #6 sum(p0) | #7 add
inline Var64 known_graph(const Var64& x, const Var64& w) {
  const Var64 b = reshape(exp(x), Shape{6});
  const std::vector<Var64> p = split(b, {2, 4}, 0);
  const Var64 s1 = sum(p[1] * w);  // separate statements: operand order is unspecified
  const Var64 s0 = sum(p[0]);
  return s1 + s0;
}

// Leaves the thread's tape empty even when a test fails midway (declare before the observer).
struct ClearTapeAtExit {
  ~ClearTapeAtExit() { Tape<double>::current().clear(); }
};

}  // namespace fz::testing
