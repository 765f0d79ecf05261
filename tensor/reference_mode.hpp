// tensor/reference_mode.hpp — the switch that runs everything through the plain (reference)
// forms instead of the fast ones: fused ops through their composition of primitive ops, SIMD/TBB
// kernels through their xtensor-expression ground truth. For readers (step through the plain
// path in a debugger) and for equality tests; results match the fast path to float rounding.
//
// On when the environment has FZ_REFERENCE_OPS=1 (read once, at the first query) or after
// set_reference_ops(true) (the CLI's --reference-ops). Each fast op checks reference_ops() at
// its entry and, when on, calls the plain form written next to it.
#pragma once

namespace fz {

bool reference_ops();
void set_reference_ops(bool on);

// Sets the switch for a scope and restores the previous value (tests run both ways).
class ReferenceOpsScope {
 public:
  explicit ReferenceOpsScope(bool on) : previous_(reference_ops()) { set_reference_ops(on); }
  ~ReferenceOpsScope() { set_reference_ops(previous_); }
  ReferenceOpsScope(const ReferenceOpsScope&) = delete;
  ReferenceOpsScope& operator=(const ReferenceOpsScope&) = delete;

 private:
  bool previous_;
};

}  // namespace fz
