// tensor/reference_mode.cpp — one process-wide flag, initialised from FZ_REFERENCE_OPS.
#include "tensor/reference_mode.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace fz {

namespace {

std::atomic<bool>& flag() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("FZ_REFERENCE_OPS");
    return v != nullptr && std::strcmp(v, "0") != 0 && v[0] != '\0';
  }()};
  return on;
}

}  // namespace

bool reference_ops() { return flag().load(std::memory_order_relaxed); }
void set_reference_ops(bool on) { flag().store(on, std::memory_order_relaxed); }

}  // namespace fz
