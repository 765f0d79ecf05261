// autograd/tape_inspector.hpp — TapeInspector<T>: attached to a tape before a forward pass, it
// lists the nodes as they are recorded (op, output shape, inputs, memory) and, if the reverse
// pass runs while it is attached, the peak memory with gradients in flight. It prints a node
// listing, totals per op type and the tape's memory, and writes the graph as Graphviz DOT.
//
// What "saved for backward" means here, and how it is measured. A backward closure is a
// std::function: what it captured cannot be read back out of it. But in this tape every Node
// owns its output VarNode (Tape::Node::output), so every recorded value stays alive until the
// tape is cleared, whatever its closure needs; and closures capture input Vars, which are
// earlier nodes' outputs (already held) or leaves (parameters and data, owned elsewhere). So
// the tensor memory the tape holds is exactly the set of distinct buffers of node outputs,
// plus closure-private tensors (e.g. logabsdet keeps its LU factors). Hence two columns:
//   saved  — exact, per node: the bytes of its output buffer if no earlier node output or
//            referenced leaf already holds that buffer, else 0 (reshape shares its input's
//            buffer and adds nothing). Summed over nodes it is the tensor memory the tape
//            holds at the end of the forward pass — the peak over the forward pass, since the
//            tape frees nothing before backward.
//   heap   — measured by the allocator (glibc mallinfo2, in-use bytes): the net growth while
//            the op ran, i.e. from the end of the previous record to this one. It includes what
//            `saved` cannot see (closure-private tensors, a few hundred bytes of bookkeeping
//            per node: VarNode, closure, shape) and any unrelated net allocation in between.
//            Unavailable (reported as such) without glibc >= 2.33 or under AddressSanitizer.
// The inspector excludes its own allocations from `heap` (it reads the counter at the start
// and at the end of its own callback).
//
// Edges: record_op declares each node's inputs, and the inspector gets them. Ops recorded
// through record_op_if (split) declare none: for those the inspector finds the inputs by
// copying the closure and seeing whose use counts rise (candidates: earlier nodes' outputs and
// the leaves seen so far); such edges are marked as probed.
//
// The inspector is expensive (two allocator queries per node, a scan of the earlier nodes per
// backward node): a study tool, never attached in training. It records the first forward pass
// after it is attached (the tape must be empty then) and stops at the next clear.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tape.hpp"

namespace fz {

// "1.5 MB", "200.7 KB", "48 B" (powers of 1024); negative values keep their sign.
std::string format_bytes(double bytes);

// In-use bytes of the process's allocator (glibc mallinfo2), or -1 if unavailable.
long long heap_in_use_bytes();

template <typename T>
class TapeInspector : public TapeObserver<T> {
 public:
  struct Input {
    bool leaf = false;      // a leaf (see leaves()) rather than an earlier node
    std::size_t id = 0;     // node index, or leaf index
    bool probed = false;    // found by probing the closure (the op declared no inputs)
  };
  struct NodeInfo {
    std::size_t index = 0;
    std::string op;
    Shape shape;
    std::size_t output_bytes = 0;  // bytes of the output value
    std::size_t saved_bytes = 0;   // output bytes newly held by the tape (0 if an alias)
    long long heap_bytes = 0;      // allocator growth while the op ran (0 if unmeasured)
    std::vector<Input> inputs;
  };
  struct LeafInfo {
    Shape shape;
    std::size_t bytes = 0;
    bool requires_grad = false;  // a parameter (or an input being differentiated)
    bool from_old_tape = false;  // an op output of an earlier, consumed recording
  };
  struct OpTotal {
    std::string op;
    std::size_t count = 0;
    std::size_t output_bytes = 0;
    std::size_t saved_bytes = 0;
    long long heap_bytes = 0;
  };

  // Attaches to `tape`, which must be empty and have no other observer.
  explicit TapeInspector(Tape<T>& tape = Tape<T>::current());
  ~TapeInspector() override;
  TapeInspector(const TapeInspector&) = delete;
  TapeInspector& operator=(const TapeInspector&) = delete;
  // Stops observing (also done by the destructor); what was recorded stays readable.
  void detach();

  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  const std::vector<LeafInfo>& leaves() const { return leaves_; }
  // Per op type, sorted by saved bytes (then count, then name).
  std::vector<OpTotal> totals_by_op() const;

  // Tensor bytes held by the tape at the end of the forward pass (sum of saved_bytes).
  std::size_t saved_bytes() const { return saved_total_; }
  // Distinct buffers behind saved_bytes().
  std::size_t saved_buffers() const { return saved_buffers_; }
  // Distinct leaf buffers referenced by the nodes (parameters, data).
  std::size_t leaf_bytes() const { return leaf_bytes_; }
  bool heap_measured() const { return heap_measured_; }
  // Allocator growth from attaching to the last record, the inspector's own use excluded
  // (the sum of the nodes' heap_bytes).
  long long heap_growth() const { return heap_total_; }

  // Reverse pass (if it ran while attached): the largest saved_bytes() + bytes of the
  // intermediate gradients alive, taken after each node's closure, and where it occurred.
  bool backward_observed() const { return backward_observed_; }
  std::size_t backward_peak_bytes() const { return saved_total_ + peak_grad_bytes_; }
  std::size_t backward_peak_grad_bytes() const { return peak_grad_bytes_; }
  std::size_t backward_peak_node() const { return peak_grad_node_; }

  // One line per node (at most max_nodes, 0 = all): index, op, shape, saved, heap, inputs.
  void print_nodes(std::ostream& out, std::size_t max_nodes = 0) const;
  // Totals per op type and the memory lines.
  void print_summary(std::ostream& out) const;
  // The graph: one DOT node per tape node ("n<i>") and per leaf ("l<j>"), one edge per input.
  void write_dot(std::ostream& out) const;

  void on_record(const Tape<T>& tape, const typename TapeObserver<T>::InputList* inputs) override;
  void on_backward_node(const Tape<T>& tape, std::size_t index, double seconds) override;
  void on_clear(const Tape<T>& tape) override;

 private:
  using VarNodePtr = std::shared_ptr<detail::VarNode<T>>;
  Input input_for(const Tape<T>& tape, const VarNodePtr& var, bool probed);
  std::vector<Input> probe_inputs(const Tape<T>& tape);

  Tape<T>* tape_;
  bool attached_ = false;
  bool frozen_ = false;  // the recording ended (the tape was cleared)
  std::vector<NodeInfo> nodes_;
  std::vector<LeafInfo> leaves_;
  // Leaves by VarNode address, with a weak reference so a reused address is not mistaken.
  std::unordered_map<const detail::VarNode<T>*, std::pair<std::size_t, std::weak_ptr<detail::VarNode<T>>>> leaf_ids_;
  std::unordered_set<const void*> held_buffers_;  // data pointers of node outputs and leaves
  std::size_t saved_total_ = 0, saved_buffers_ = 0, leaf_bytes_ = 0;
  bool heap_measured_ = false;
  long long heap_last_ = 0, heap_total_ = 0;
  bool backward_observed_ = false;
  std::size_t peak_grad_bytes_ = 0, peak_grad_node_ = 0;
};

extern template class TapeInspector<float>;
extern template class TapeInspector<double>;

}  // namespace fz
