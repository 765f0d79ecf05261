// autograd/op_profiler.hpp — OpProfiler<T>: time per op type, forward and backward, while
// attached to a tape (over as many training steps as you like), printed as a sorted table.
//
// Backward times are exact per node: Tape::run_backward times each closure when an observer
// is attached and reports it here. Forward times are an approximation, because an op's forward
// work happens before it records and nothing marks where it starts: each record is attributed
// the wall time since the previous record of the same forward pass — so it also includes any
// unrecorded work in between (ops on values that need no gradient, module bookkeeping). The
// first record of a pass is attributed the time since mark(), if mark() was called after the
// previous pass ended; otherwise its time cannot be told apart from whatever ran between the
// passes (optimiser step, evaluation, data loading), so it is counted but not timed, and the
// table says how many such records there were.
//
// With by_shape, rows are per op *and* shapes ("conv2d (64,2,14,14) (128,2,3,3) -> (64,128,14,14)":
// the declared inputs, then the output), which tells e.g. a 3x3 convolution from a 1x1 one.
//
// Cost: off (detached) it costs nothing beyond the tape's one pointer check per record and
// per backward node; on, one clock read and one small hash lookup per record, two clock reads
// (taken by the tape) and an array lookup per backward node — about 0.2 us per node in all,
// measured (glow-fmnist records about 780 nodes per step of about 400 ms). by_shape adds the
// input list and a string key per record.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "tape.hpp"

namespace fz {

template <typename T>
class OpProfiler : public TapeObserver<T> {
 public:
  struct OpStats {
    std::string op;                  // the op's name (with by_shape: followed by the shapes)
    std::size_t forward_count = 0;   // records (every one counted, timed or not)
    std::size_t backward_count = 0;  // closures that ran (a node no gradient reached is skipped)
    double forward_seconds = 0;
    double backward_seconds = 0;
    double total_seconds() const { return forward_seconds + backward_seconds; }
  };

  // Attaches to `tape` (which must have no other observer).
  explicit OpProfiler(Tape<T>& tape = Tape<T>::current(), bool by_shape = false);
  ~OpProfiler() override;
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;
  void detach();

  // A forward pass starts now: the next record is timed from here.
  void mark();
  // Forgets everything measured so far (stays attached).
  void reset();

  // Per op type (merged by name), sorted by total time, largest first.
  std::vector<OpStats> stats() const;
  double forward_seconds() const { return forward_total_; }
  double backward_seconds() const { return backward_total_; }
  std::size_t forward_records() const { return records_; }
  std::size_t backward_nodes() const { return backward_nodes_; }
  // Records whose forward time could not be attributed (first of a pass without mark()).
  std::size_t untimed_records() const { return untimed_; }
  // Forward passes seen (recordings that ended with a clear, plus one in progress).
  std::size_t passes() const { return passes_; }

  // The table, then totals. With wall_seconds > 0 (the wall time of the `steps` profiled
  // steps), also the time outside recorded ops and closures (optimiser, data, overheads).
  void print_table(std::ostream& out, double wall_seconds = 0, std::size_t steps = 0,
                   std::size_t max_rows = 0) const;

  void on_record(const Tape<T>& tape, const typename TapeObserver<T>::InputList* inputs) override;
  void on_backward_node(const Tape<T>& tape, std::size_t index, double seconds) override;
  void on_clear(const Tape<T>& tape) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Slot {
    std::string label;
    std::size_t forward_count = 0, backward_count = 0;
    double forward_seconds = 0, backward_seconds = 0;
  };
  std::size_t slot_for(const char* op);
  std::size_t slot_for(const std::string& label);

  Tape<T>* tape_;
  bool attached_ = false;
  bool by_shape_ = false;
  // Op names are string literals: keyed by pointer (fast), merged by text in stats().
  std::unordered_map<const char*, std::size_t> slot_of_;
  std::unordered_map<std::string, std::size_t> slot_of_label_;  // by_shape
  std::vector<Slot> slots_;
  std::vector<std::size_t> node_slot_;  // slot of each node of the current recording
  Clock::time_point last_{};
  bool have_last_ = false;    // last_ is a record of this pass, or a mark()
  bool in_pass_ = false;      // a record happened since the last clear
  double forward_total_ = 0, backward_total_ = 0;
  std::size_t records_ = 0, backward_nodes_ = 0, untimed_ = 0, passes_ = 0;
};

extern template class OpProfiler<float>;
extern template class OpProfiler<double>;

}  // namespace fz
