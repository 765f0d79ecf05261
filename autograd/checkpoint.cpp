// autograd/checkpoint.cpp — nested local recordings, recorded segments and checkpoint().
#include "autograd/checkpoint.hpp"

#include <memory>
#include <stdexcept>
#include <utility>

#include "autograd/grad_mode.hpp"

namespace fz {

template <typename T>
LocalRecording<T>::LocalRecording()
    : mark_(Tape<T>::current().size()), previous_grad_mode_(GradMode::enabled()) {
  GradMode::set_enabled(true);
}

template <typename T>
LocalRecording<T>::~LocalRecording() {
  Tape<T>::current().truncate(mark_);
  GradMode::set_enabled(previous_grad_mode_);
}

template <typename T>
void LocalRecording<T>::backward(const std::vector<Var<T>>& outputs,
                                 const std::vector<Tensor<T>>& grads) {
  if (outputs.size() != grads.size())
    throw std::invalid_argument("LocalRecording::backward: one gradient per output");
  for (std::size_t k = 0; k < outputs.size(); ++k)
    if (grads[k].defined() && outputs[k].requires_grad()) outputs[k].accumulate_grad(grads[k]);
  Tape<T>::current().run_backward_after(mark_);
}

namespace {

// Shared by the nodes of one segment: the first of them the reverse pass reaches runs the
// segment's backward with every output's gradient; the others then find it done.
template <typename T>
struct SegmentState {
  std::vector<std::shared_ptr<detail::VarNode<T>>> outputs;
  SegmentBackward<T> backward;
  bool done = false;

  void run() {
    if (done) return;
    done = true;
    if (detail::grad_redirect<T>())
      throw std::logic_error(
          "checkpointed segment: grad() cannot pass through it (it recomputes into .grad); "
          "use backward()");
    std::vector<Var<T>> values;
    std::vector<Tensor<T>> grads;
    for (const auto& node : outputs) {
      values.push_back(Var<T>(node->value, false));
      grads.push_back(node->grad);
    }
    SegmentBackward<T> fn = std::move(backward);  // freed (inputs and all) once it has run
    outputs.clear();
    fn(values, grads);
  }
};

}  // namespace

template <typename T>
std::vector<Var<T>> record_segment(const char* op, std::vector<Tensor<T>> values,
                                   SegmentBackward<T> backward) {
  auto state = std::make_shared<SegmentState<T>>();
  state->backward = std::move(backward);
  std::vector<Var<T>> out;
  for (Tensor<T>& value : values) {
    out.push_back(record_op_if(true, op, std::move(value),
                               [state](const Tensor<T>& /*grad*/) { state->run(); }));
    state->outputs.push_back(out.back().node());
  }
  return out;
}

template <typename T>
std::vector<Var<T>> checkpoint(const SegmentFn<T>& fn, const std::vector<Var<T>>& inputs) {
  if (!GradMode::enabled()) return fn(inputs);
  std::vector<Var<T>> first;
  {
    NoGradGuard no_grad;
    first = fn(inputs);
  }
  std::vector<Tensor<T>> values;
  for (const Var<T>& v : first) values.push_back(v.value());
  first.clear();
  return record_segment<T>(
      "checkpoint", std::move(values),
      [fn, inputs](const std::vector<Var<T>>& /*outputs*/, const std::vector<Tensor<T>>& grads) {
        std::vector<Var<T>> fresh;
        for (const Var<T>& in : inputs) fresh.emplace_back(in.value(), in.requires_grad());
        {
          LocalRecording<T> local;
          local.backward(fn(fresh), grads);
        }
        for (std::size_t i = 0; i < inputs.size(); ++i)
          if (fresh[i].grad().defined()) inputs[i].accumulate_grad(fresh[i].grad());
      });
}

template class LocalRecording<float>;
template class LocalRecording<double>;
template std::vector<Var<float>> record_segment<float>(const char*, std::vector<Tensor<float>>,
                                                       SegmentBackward<float>);
template std::vector<Var<double>> record_segment<double>(const char*, std::vector<Tensor<double>>,
                                                         SegmentBackward<double>);
template std::vector<Var<float>> checkpoint<float>(const SegmentFn<float>&,
                                                   const std::vector<Var<float>>&);
template std::vector<Var<double>> checkpoint<double>(const SegmentFn<double>&,
                                                     const std::vector<Var<double>>&);

}  // namespace fz
