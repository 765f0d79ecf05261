// autograd/checkpoint.hpp — recomputing instead of storing: segments of the graph whose
// forward keeps nothing but its inputs and outputs, and whose backward re-runs it.
//
//   std::vector<Var32> out = checkpoint<float>(
//       [&](const std::vector<Var32>& in) { return std::vector<Var32>{layer(in[0])}; }, {h});
//
// checkpoint(fn, inputs) runs fn under no-grad (nothing recorded) and puts one node per output
// on the tape. When the reverse pass reaches them, the first of them to run (all consumers of
// every output were recorded later, so every output gradient is final by then) re-runs fn on
// fresh leaves holding the inputs' values, this time recorded, AFTER the end of the tape
// (LocalRecording), backpropagates the output gradients through that local recording
// (Tape::run_backward_after) and drops it before returning. Parameters captured by fn are
// leaves: their .grad accumulates as in a normal pass; the fresh leaves' gradients go to the
// original input Vars, whose own nodes (earlier on the tape) run later as usual.
// Cost: one extra forward of fn per backward; memory: fn's activations exist only while its
// segment is being backpropagated. docs/how-the-tape-works.md, "Recomputing instead of
// storing". Limits: first-order only (grad(..., create_graph = true) refuses the node; grad()
// without create_graph throws std::logic_error inside the segment); fn must compute the same
// function when re-run (no randomness, no state it changes, like batch norm's running means).
#pragma once

#include <functional>
#include <vector>

#include "var.hpp"

namespace fz {

// A nested recording on this thread's tape: everything recorded while it lives comes after
// the tape position at its construction (the mark), and is dropped when it is destroyed.
// Turns recording on for its lifetime (the reverse pass may run with it off).
template <typename T>
class LocalRecording {
 public:
  LocalRecording();
  ~LocalRecording();
  LocalRecording(const LocalRecording&) = delete;
  LocalRecording& operator=(const LocalRecording&) = delete;

  // Seeds outputs[k] with grads[k] (undefined gradients and outputs that do not require grad
  // are skipped) and runs the nodes recorded since construction, back to front; then drops
  // them. Gradients reach leaves' .grad (fresh input copies, captured parameters).
  void backward(const std::vector<Var<T>>& outputs, const std::vector<Tensor<T>>& grads);

 private:
  std::size_t mark_;
  bool previous_grad_mode_;
};

// Receives the segment's outputs (constant Vars with their forward values) and the gradients
// of the loss with respect to them (undefined where none arrived), and must add the inputs'
// gradients into them (Var::accumulate_grad).
template <typename T>
using SegmentBackward =
    std::function<void(const std::vector<Var<T>>& outputs, const std::vector<Tensor<T>>& grads)>;

// Records `values` as the outputs of one segment (node names "<op>", one node per output) whose
// backward is `backward`, run once. Returns the outputs, requiring grad. The building block of
// checkpoint() and of invertible backprop (flows/memory_saving.hpp).
template <typename T>
std::vector<Var<T>> record_segment(const char* op, std::vector<Tensor<T>> values,
                                   SegmentBackward<T> backward);

template <typename T>
using SegmentFn = std::function<std::vector<Var<T>>(const std::vector<Var<T>>&)>;

// fn(inputs), keeping only inputs and outputs; fn re-runs in backward. With recording off it
// is just fn(inputs). Records whenever recording is on (fn's captured parameters are not
// visible here, so even inputs that do not require grad get a segment).
template <typename T>
std::vector<Var<T>> checkpoint(const SegmentFn<T>& fn, const std::vector<Var<T>>& inputs);

extern template class LocalRecording<float>;
extern template class LocalRecording<double>;

}  // namespace fz
