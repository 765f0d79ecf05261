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
//
// An op that also has second derivatives writes its closure as a generic lambda with two
// branches, the first-order one on tensors and the differentiable one in Var ops (which record
// their own nodes when grad(..., create_graph = true) runs it, autograd/grad.hpp):
//
//     return record_op("exp", y, {x}, [x, y](const auto& g) {
//       if constexpr (is_first_order<decltype(g)>) x.accumulate_grad(mul(g, y));
//       else x.accumulate_grad(g * g.output());   // g: an OutputGrad<T>, a Var
//     });
//
// It is still ONE closure object (the same captures, the same single allocation inside the
// tape's std::function); record_op only adds a plain function pointer to the node that reaches
// its second entry (detail::differentiable_entry). The first-order branch is the code the op
// had before, so first-order training costs what it did.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "grad_mode.hpp"
#include "tape.hpp"
#include "../tensor/tensor.hpp"

namespace fz {

template <typename T>
class Var;

namespace detail {
// While grad() (autograd/grad.cpp) runs its reverse pass, gradients go to it instead of into
// the variables' .grad: a leaf's first-order gradient (so grad() touches no .grad), and every
// gradient of a create_graph pass (as Vars). One per thread; null outside grad().
template <typename T>
struct GradRedirect {
  virtual ~GradRedirect() = default;
  virtual void add(const std::shared_ptr<VarNode<T>>& leaf, Tensor<T> g) = 0;
  virtual void add(const std::shared_ptr<VarNode<T>>& node, const Var<T>& g) = 0;
  // In a create_graph pass: the gradient gathered so far for an op output of the graph
  // (undefined if none, or once its node has run). For ops with several outputs (split).
  virtual Var<T> pending(const VarNode<T>* node) const = 0;
  std::uint64_t pass_id = 0;  // distinct for every create_graph pass of this thread
};
template <typename T>
GradRedirect<T>*& grad_redirect();  // this thread's slot (autograd/var.cpp)
}  // namespace detail

template <typename T>
class Var {
 public:
  using value_type = T;

  // An undefined Var (no node). defined() is false.
  Var() = default;
  // A leaf holding `value`; set requires_grad for parameters and inputs to differentiate.
  explicit Var(Tensor<T> value, bool requires_grad = false);
  // Another handle to an existing variable (the tape's nodes hold VarNodes; grad() uses it).
  explicit Var(std::shared_ptr<detail::VarNode<T>> node) : node_(std::move(node)) {}

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
  // The differentiable form, for the Var branch of a backward closure run by
  // grad(..., create_graph = true): adds g (a Var, so the sum is recorded) to this variable's
  // gradient in that pass. Throws std::logic_error outside such a pass.
  void accumulate_grad(const Var& g) const;

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

// What the differentiable entry of a backward closure receives: the gradient of the op's
// output as a Var (it may depend on the inputs, so everything computed from it is recorded),
// which also knows the op's output (for ops whose derivative is written in it, like e^x).
template <typename T>
class OutputGrad : public Var<T> {
 public:
  OutputGrad(Var<T> grad, Var<T> output) : Var<T>(std::move(grad)), output_(std::move(output)) {}
  const Var<T>& output() const { return output_; }

 private:
  Var<T> output_;
};

namespace detail {
template <typename G>
struct IsOutputGrad : std::false_type {};
template <typename T>
struct IsOutputGrad<OutputGrad<T>> : std::true_type {};
}  // namespace detail

// In a closure written as [..](const auto& g): true in its first-order branch (g is a
// Tensor<T>), false in its differentiable one (g is an OutputGrad<T>).
template <typename G>
constexpr bool is_first_order = !detail::IsOutputGrad<std::decay_t<G>>::value;

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

// The second entry point of a closure of type Closure, stored in the tape's std::function:
// target<Closure>() recovers the object (no copy) and calls its OutputGrad overload.
template <typename T, typename Closure>
void run_differentiable(const typename Tape<T>::Backward& closure, const OutputGrad<T>& g) {
  (*closure.template target<Closure>())(g);
}

// &run_differentiable<T, Closure> when the closure can be called with an OutputGrad<T> (a
// generic lambda with a Var branch), else nullptr: such an op has first derivatives only.
template <typename T, typename Closure>
constexpr typename Tape<T>::DifferentiableBackward differentiable_entry() {
  if constexpr (std::is_invocable_v<const Closure&, const OutputGrad<T>&>)
    return &run_differentiable<T, Closure>;
  else
    return nullptr;
}

// record_op and record_op_if: `inputs` is null when the op did not declare them.
template <typename T, typename BackwardFn, typename Inputs>
Var<T> record_node(bool record, const char* op, Tensor<T> value, BackwardFn&& backward,
                   const Inputs* inputs) {
  Var<T> out(std::move(value), false);
  if (record) {
    Tape<T>& tape = Tape<T>::current();
    if (inputs) check_inputs_current(op, tape, *inputs);
    tape.record(op, out.node(), typename Tape<T>::Backward(std::forward<BackwardFn>(backward)),
                differentiable_entry<T, std::decay_t<BackwardFn>>());
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
