// tests/thread_count.hpp — ThreadCount: runs the enclosing scope at n worker threads and goes
// back to the default (all cores) when the scope ends, even through a failed REQUIRE, so one
// test's thread count never leaks into the next.
#pragma once

#include "tensor/parallel.hpp"

namespace fz::testing {

struct ThreadCount {
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(0); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;
};

}  // namespace fz::testing
