// autograd/var.hpp — Var<T>: a tensor value that can carry a gradient, and record_op, the
// helper every differentiable op uses to put its backward closure on the tape.
//
// A Var is a cheap handle (shared pointer) to a node holding value, grad and requires_grad.
// Leaves are made by the user (parameters, inputs); every other Var is the output of an op.
// Writing an op looks like this (forward and backward side by side):
//
//   template <typename T> Var<T> exp(const Var<T>& x) {
//     Tensor<T> y = exp(x.value());
//     // d/dx e^x = e^x
//     return record_op("exp", y, {x}, [x, y](const Tensor<T>& g) { x.accumulate_grad(mul(g, y)); });
//   }
#pragma once

#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "grad_mode.hpp"
#include "tape.hpp"
#include "../tensor/tensor.hpp"

namespace fz {

template <typename T>
class Var {
 public:
  using value_type = T;

  // An undefined Var (no node). defined() is false.
  Var() = default;
  // A leaf holding `value`; set requires_grad for parameters and inputs to differentiate.
  explicit Var(Tensor<T> value, bool requires_grad = false);

  bool defined() const { return static_cast<bool>(node_); }
  const Tensor<T>& value() const { return node_->value; }
  // Mutable access to a leaf's value, for optimisers and initialisers (never for op outputs
  // still on the tape: their backward closures may have saved this buffer).
  Tensor<T>& mutable_value() { return node_->value; }
  const Shape& shape() const { return node_->value.shape(); }
  std::size_t dim() const { return node_->value.dim(); }
  std::size_t numel() const { return node_->value.numel(); }

  // Gradient accumulated so far; undefined if none has arrived.
  const Tensor<T>& grad() const { return node_->grad; }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  void set_requires_grad(bool r);
  bool is_leaf() const { return node_->is_leaf; }

  // Reverse pass from this scalar (seed 1). Throws if this is not a one-element tensor, does
  // not require grad, or the tape that recorded it was already consumed by a backward().
  void backward() const;
  // Reverse pass seeded with d(loss)/d(this) = seed (same shape as the value).
  void backward(const Tensor<T>& seed) const;

  // Forgets the accumulated gradient (gradients otherwise add up across backward calls).
  void zero_grad() const { node_->grad = Tensor<T>(); }

  // grad += g (g must have this Var's shape). A no-op when this Var does not require grad.
  // Used by backward closures; takes g by value so a fresh tensor is adopted without a copy.
  void accumulate_grad(Tensor<T> g) const;

  // A new leaf sharing this value, cut off from the graph.
  Var detach() const { return Var(node_->value, false); }

  // Identity of the underlying node (two handles to one variable compare equal).
  const detail::VarNode<T>* node_id() const { return node_.get(); }
  const std::shared_ptr<detail::VarNode<T>>& node() const { return node_; }

 private:
  void check_backward_allowed() const;
  std::shared_ptr<detail::VarNode<T>> node_;
};

using Var32 = Var<float>;
using Var64 = Var<double>;

// True when recording is on and some input requires grad: only then does an op record.
template <typename T>
bool should_record(std::initializer_list<std::reference_wrapper<const Var<T>>> inputs) {
  if (!GradMode::enabled()) return false;
  for (const Var<T>& v : inputs)
    if (v.requires_grad()) return true;
  return false;
}

template <typename T>
bool should_record(const std::vector<Var<T>>& inputs) {
  if (!GradMode::enabled()) return false;
  for (const Var<T>& v : inputs)
    if (v.requires_grad()) return true;
  return false;
}

namespace detail {

// Tells the tape's observer (inspector, profiler) about the node just recorded, with the
// op's declared inputs if it wants them. Only reached when an observer is attached.
template <typename T, typename Inputs>
void notify_record(TapeObserver<T>& observer, const Tape<T>& tape, const Inputs* inputs) {
  if (!inputs || !observer.wants_inputs) {
    observer.on_record(tape, nullptr);
    return;
  }
  typename TapeObserver<T>::InputList list;
  for (const Var<T>& v : *inputs)
    if (v.defined()) list.push_back(&v.node());
  observer.on_record(tape, &list);
}

// A non-leaf input recorded by an earlier forward pass whose tape backward() already consumed
// has no node on the current tape: gradients would silently stop at it. Refuse it instead.
template <typename T, typename Inputs>
void check_inputs_current(const char* op, const Tape<T>& tape, const Inputs& inputs) {
  for (const Var<T>& v : inputs)
    if (v.defined() && v.requires_grad() && !v.is_leaf() &&
        v.node()->tape_generation != tape.generation())
      throw std::logic_error(std::string(op) +
                             ": an input was computed by an earlier forward pass whose graph "
                             "backward() already consumed; recompute it in this pass, or use "
                             "its detach() as a constant");
}

// record_op and record_op_if: `inputs` is null when the op did not declare them.
template <typename T, typename BackwardFn, typename Inputs>
Var<T> record_node(bool record, const char* op, Tensor<T> value, BackwardFn&& backward,
                   const Inputs* inputs) {
  Var<T> out(std::move(value), false);
  if (record) {
    Tape<T>& tape = Tape<T>::current();
    if (inputs) check_inputs_current(op, tape, *inputs);
    tape.record(op, out.node(), typename Tape<T>::Backward(std::forward<BackwardFn>(backward)));
    if (TapeObserver<T>* observer = tape.observer()) notify_record(*observer, tape, inputs);
  }
  return out;
}

}  // namespace detail

// Wraps an op's forward result in a Var and, if recording, appends its backward closure to
// the tape. The closure is only built (and allocated) when it will be recorded.
template <typename T, typename BackwardFn>
Var<T> record_op_if(bool record, const char* op, Tensor<T> value, BackwardFn&& backward) {
  return detail::record_node(record, op, std::move(value), std::forward<BackwardFn>(backward),
                             static_cast<const std::vector<Var<T>>*>(nullptr));
}

template <typename T, typename BackwardFn>
Var<T> record_op(const char* op, Tensor<T> value,
                 std::initializer_list<std::reference_wrapper<const Var<T>>> inputs,
                 BackwardFn&& backward) {
  return detail::record_node(should_record<T>(inputs), op, std::move(value),
                             std::forward<BackwardFn>(backward), &inputs);
}

template <typename T, typename BackwardFn>
Var<T> record_op(const char* op, Tensor<T> value, const std::vector<Var<T>>& inputs,
                 BackwardFn&& backward) {
  return detail::record_node(should_record<T>(inputs), op, std::move(value),
                             std::forward<BackwardFn>(backward), &inputs);
}

extern template class Var<float>;
extern template class Var<double>;

}  // namespace fz
