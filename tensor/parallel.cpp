// tensor/parallel.cpp — process-wide thread-count control over TBB.
#include "tensor/parallel.hpp"

#include <memory>
#include <mutex>

#include <tbb/global_control.h>
#include <tbb/info.h>

namespace fz {

namespace {
std::mutex g_control_mutex;
std::unique_ptr<tbb::global_control> g_control;
int g_threads = 0;  // 0 = TBB default
}  // namespace

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(g_control_mutex);
  g_control.reset();
  g_threads = 0;
  if (n > 0) {
    g_control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                      static_cast<std::size_t>(n));
    g_threads = n;
  }
}

int num_threads() {
  const int active = static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
  return g_threads > 0 ? g_threads : active;
}

}  // namespace fz
