// autograd/tape.hpp — the linear tape (Wengert list) of reverse-mode autodiff.
//
// Every differentiable op whose input requires grad appends one Node: the op's name, the
// output variable, and a backward closure holding what the op saved. Nodes are appended in
// creation order, which is already a topological order of the graph, so the reverse pass is
// one backwards loop — no recursion, no sort. After a reverse pass the tape is cleared; the
// node vector keeps its capacity, so the next iteration records into the same memory
// (an arena, as in Stan Math's reverse mode). There is one tape per thread and element type.
// grad(..., create_graph = true) (autograd/grad.hpp) runs the nodes' differentiable entry
// instead and does not clear: the nodes it records are appended after the original ones.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "../tensor/tensor.hpp"

namespace fz {

namespace detail {
// The shared state behind a Var: its value, its gradient and where it was recorded.
template <typename T>
struct VarNode {
  Tensor<T> value;
  Tensor<T> grad;  // undefined until some gradient arrives
  bool requires_grad = false;
  bool is_leaf = true;
  std::uint64_t tape_generation = 0;  // which recording of the tape created it (non-leaves)
  std::size_t tape_index = 0;         // position of its node on that tape
};
}  // namespace detail

template <typename T>
class Tape;
template <typename T>
class OutputGrad;

// Optional observer of recording and of the reverse pass: the tape inspector and the op
// profiler (autograd/tape_inspector.hpp, autograd/op_profiler.hpp). At most one per tape; with
// none attached, recording and the reverse pass pay one pointer check each.
template <typename T>
struct TapeObserver {
  using InputList = std::vector<const std::shared_ptr<detail::VarNode<T>>*>;
  virtual ~TapeObserver() = default;
  // Observers that want each node's declared inputs set this (building the list allocates).
  bool wants_inputs = false;
  // tape.nodes().back() was just recorded. `inputs`: the Vars the op declared to record_op
  // (undefined ones skipped), or nullptr when it recorded through record_op_if, which declares
  // none, or when wants_inputs is false.
  virtual void on_record(const Tape<T>& /*tape*/, const InputList* /*inputs*/) {}
  // Node `index` ran its backward closure, which took `seconds`.
  virtual void on_backward_node(const Tape<T>& /*tape*/, std::size_t /*index*/, double /*seconds*/) {}
  // The tape is about to drop all its nodes (end of a reverse pass, or clear()).
  virtual void on_clear(const Tape<T>& /*tape*/) {}
};

template <typename T>
class Tape {
 public:
  // Receives the gradient of the loss with respect to the node's output and adds the
  // gradients of the node's inputs into them (Var::accumulate_grad).
  using Backward = std::function<void(const Tensor<T>& grad_output)>;
  // The node's second entry point, used by grad(..., create_graph = true) (autograd/grad.hpp):
  // runs the same closure object with the output's gradient as a Var, so the backward's own
  // arithmetic is recorded on this tape. A plain function pointer made by record_op for
  // closures that have that entry (autograd/var.hpp, detail::differentiable_entry); nullptr
  // for first-order-only ops, which grad(create_graph = true) refuses by name.
  using DifferentiableBackward = void (*)(const Backward& closure, const OutputGrad<T>& grad_output);

  struct Node {
    const char* op;
    std::shared_ptr<detail::VarNode<T>> output;
    Backward backward;
    DifferentiableBackward differentiable = nullptr;
  };

  // This thread's tape for element type T.
  static Tape& current();

  void record(const char* op, const std::shared_ptr<detail::VarNode<T>>& output, Backward backward,
              DifferentiableBackward differentiable = nullptr);

  // Runs the backward closures from node `from_index` down to node 0, then clears the tape.
  void run_backward(std::size_t from_index);

  // Drops every node (and with them the saved tensors) but keeps the vector's capacity.
  void clear();

  // A nested reverse pass (checkpointed segments, autograd/checkpoint.hpp): runs only the
  // nodes recorded at positions >= mark (back to front), then drops them. The nodes before
  // mark and the generation are untouched, so an outer run_backward that is in the middle of
  // running the node that called this carries on. Rule: a closure may record nodes and run
  // them this way, but must leave the tape exactly `mark` nodes long when it returns.
  void run_backward_after(std::size_t mark);
  // Drops the nodes at positions >= mark without running them (unwinding after an error).
  void truncate(std::size_t mark);

  std::size_t size() const { return nodes_.size(); }
  std::size_t capacity() const { return nodes_.capacity(); }
  const std::vector<Node>& nodes() const { return nodes_; }
  // Increases on every clear(): a Var recorded under an older generation has been consumed.
  std::uint64_t generation() const { return generation_; }

  void set_observer(TapeObserver<T>* observer) { observer_ = observer; }
  TapeObserver<T>* observer() const { return observer_; }

 private:
  void run_range(std::size_t begin, std::size_t from_index);
  std::vector<Node> nodes_;
  std::uint64_t generation_ = 1;
  TapeObserver<T>* observer_ = nullptr;
};

extern template class Tape<float>;
extern template class Tape<double>;

}  // namespace fz
