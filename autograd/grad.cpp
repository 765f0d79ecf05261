// autograd/grad.cpp — grad(): a reverse pass whose gradients are collected into a result
// instead of the variables' .grad, either first-order (each node's tensor closure, as
// backward() runs them) or differentiable (each node's Var entry, recording new nodes); and
// hvp / jvp built from two such passes.
#include "autograd/grad.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

namespace {

// Points this thread's gradient redirect (autograd/var.hpp) at `sink` for the scope.
template <typename T>
class RedirectScope {
 public:
  explicit RedirectScope(detail::GradRedirect<T>* sink) : previous_(detail::grad_redirect<T>()) {
    detail::grad_redirect<T>() = sink;
  }
  ~RedirectScope() { detail::grad_redirect<T>() = previous_; }
  RedirectScope(const RedirectScope&) = delete;
  RedirectScope& operator=(const RedirectScope&) = delete;

 private:
  detail::GradRedirect<T>* previous_;
};

// The positions k with inputs[k] naming `node` (an input may be listed twice).
template <typename T, typename Fn>
void for_each_position(const std::vector<Var<T>>& inputs, const detail::VarNode<T>* node, Fn fn) {
  for (std::size_t k = 0; k < inputs.size(); ++k)
    if (inputs[k].node_id() == node) fn(k);
}

// First-order pass: leaves' gradients land here (the inputs' ones are kept, the others
// dropped), so no .grad changes. Op outputs' gradients still travel through VarNode::grad.
template <typename T>
struct FirstOrderSink final : detail::GradRedirect<T> {
  explicit FirstOrderSink(const std::vector<Var<T>>& in) : inputs(in), grads(in.size()) {}
  void add(const std::shared_ptr<detail::VarNode<T>>& leaf, Tensor<T> g) override {
    // Never written in place: g may share its buffer with other gradients.
    for_each_position(inputs, leaf.get(), [&](std::size_t k) {
      grads[k] = grads[k].defined() ? fz::add(grads[k], g) : g;
    });
  }
  void add(const std::shared_ptr<detail::VarNode<T>>&, const Var<T>&) override {
    throw std::logic_error("grad: a Var gradient in a first-order pass (create_graph = false)");
  }
  Var<T> pending(const detail::VarNode<T>*) const override { return Var<T>(); }
  const std::vector<Var<T>>& inputs;
  std::vector<Tensor<T>> grads;
};

// Differentiable pass: every gradient is a Var, summed with recorded adds. Op outputs' ones
// by tape index (nodes 0..root; the nodes this pass appends never receive one), the inputs'
// leaves' ones by position.
template <typename T>
struct GraphSink final : detail::GradRedirect<T> {
  GraphSink(const std::vector<Var<T>>& in, std::uint64_t gen, std::size_t last)
      : inputs(in), generation(gen), root(last), node_grads(last + 1), leaf_grads(in.size()) {}
  void add(const std::shared_ptr<detail::VarNode<T>>&, Tensor<T>) override {
    throw std::logic_error("grad(create_graph = true): a backward added a tensor gradient into a "
                           "leaf; its differentiable branch must add Vars");
  }
  void add(const std::shared_ptr<detail::VarNode<T>>& node, const Var<T>& g) override {
    if (node->is_leaf) {
      for_each_position(inputs, node.get(), [&](std::size_t k) { sum_into(leaf_grads[k], g); });
      return;
    }
    if (node->tape_generation != generation || node->tape_index > root)
      throw std::logic_error("grad(create_graph = true): a gradient for a variable that is not "
                             "on the graph being differentiated");
    sum_into(node_grads[node->tape_index], g);
  }
  Var<T> pending(const detail::VarNode<T>* node) const override {
    if (node->is_leaf || node->tape_generation != generation || node->tape_index > root) return Var<T>();
    return node_grads[node->tape_index];
  }
  static void sum_into(Var<T>& slot, const Var<T>& g) { slot = slot.defined() ? fz::add(slot, g) : g; }

  const std::vector<Var<T>>& inputs;
  std::uint64_t generation;
  std::size_t root;
  std::vector<Var<T>> node_grads;
  std::vector<Var<T>> leaf_grads;
};

template <typename T>
void check_arguments(const std::vector<Var<T>>& outputs, const std::vector<Var<T>>& inputs,
                     const std::vector<Var<T>>& grad_outputs) {
  if (outputs.empty()) throw std::invalid_argument("grad: needs at least one output");
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw std::invalid_argument("grad: " + std::to_string(grad_outputs.size()) +
                                " grad_outputs for " + std::to_string(outputs.size()) +
                                " outputs (give one per output, or none for one-element outputs)");
  const Tape<T>& tape = Tape<T>::current();
  for (std::size_t j = 0; j < outputs.size(); ++j) {
    const Var<T>& y = outputs[j];
    const std::string which = "grad: output " + std::to_string(j);
    if (!y.defined()) throw std::invalid_argument(which + " is undefined");
    if (grad_outputs.empty() && y.numel() != 1)
      throw std::invalid_argument(which + " has shape " + shape_str(y.shape()) +
                                  "; pass grad_outputs (a seed of that shape)");
    if (!grad_outputs.empty() &&
        (!grad_outputs[j].defined() || grad_outputs[j].shape() != y.shape()))
      throw std::invalid_argument(which + " has shape " + shape_str(y.shape()) +
                                  " but its grad_output is " +
                                  (grad_outputs[j].defined() ? shape_str(grad_outputs[j].shape())
                                                             : std::string("undefined")));
    if (y.requires_grad() && !y.is_leaf() &&
        (y.node()->tape_generation != tape.generation() || y.node()->tape_index >= tape.size()))
      throw std::logic_error(which + ": the tape that recorded it was already consumed by a "
                             "backward() or a first-order grad(); run the forward again");
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Var<T>& x = inputs[k];
    if (!x.defined()) throw std::invalid_argument("grad: input " + std::to_string(k) + " is undefined");
    if (x.requires_grad() && !x.is_leaf() && x.node()->tape_generation != tape.generation())
      throw std::logic_error("grad: input " + std::to_string(k) +
                             " was computed by an earlier forward pass whose tape was consumed");
  }
}

// The inputs that are op outputs: (tape index, position) pairs, checked as the pass goes by.
template <typename T>
std::vector<std::pair<std::size_t, std::size_t>> op_output_inputs(const std::vector<Var<T>>& inputs) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t k = 0; k < inputs.size(); ++k)
    if (inputs[k].requires_grad() && !inputs[k].is_leaf()) out.emplace_back(inputs[k].node()->tape_index, k);
  return out;
}

template <typename T>
Tensor<T> seed_tensor(const std::vector<Var<T>>& outputs, const std::vector<Var<T>>& grad_outputs,
                      std::size_t j) {
  return grad_outputs.empty() ? Tensor<T>(outputs[j].shape(), T(1)) : grad_outputs[j].value().clone();
}

template <typename T>
std::vector<Var<T>> first_order_pass(const std::vector<Var<T>>& outputs,
                                     const std::vector<Var<T>>& inputs,
                                     const std::vector<Var<T>>& grad_outputs, bool any_node,
                                     std::size_t root) {
  using Clock = std::chrono::steady_clock;
  Tape<T>& tape = Tape<T>::current();
  FirstOrderSink<T> sink(inputs);
  const auto op_inputs = op_output_inputs(inputs);
  std::vector<Tensor<T>> op_input_grads(inputs.size());
  {
    RedirectScope<T> redirect(&sink);
    for (std::size_t j = 0; j < outputs.size(); ++j)
      if (outputs[j].requires_grad()) outputs[j].accumulate_grad(seed_tensor(outputs, grad_outputs, j));
    if (any_node) {
      TapeObserver<T>* observer = tape.observer();
      for (std::size_t i = root + 1; i-- > 0;) {
        const typename Tape<T>::Node& node = tape.nodes()[i];
        Tensor<T>& g = node.output->grad;
        if (!g.defined()) continue;
        for (const auto& [index, k] : op_inputs)
          if (index == i && inputs[k].node_id() == node.output.get()) op_input_grads[k] = g;
        const auto start = observer ? Clock::now() : Clock::time_point();
        node.backward(g);
        if (observer)
          observer->on_backward_node(tape, i, std::chrono::duration<double>(Clock::now() - start).count());
        g = Tensor<T>();
      }
      tape.clear();
    }
  }
  std::vector<Var<T>> result;
  result.reserve(inputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor<T> g = inputs[k].is_leaf() ? sink.grads[k] : op_input_grads[k];
    if (!g.defined()) g = Tensor<T>(inputs[k].shape());
    // The result is the caller's: never a buffer some other gradient still shares.
    result.emplace_back(g.unique() ? std::move(g) : g.clone());
  }
  return result;
}

template <typename T>
std::vector<Var<T>> graph_pass(const std::vector<Var<T>>& outputs, const std::vector<Var<T>>& inputs,
                               const std::vector<Var<T>>& grad_outputs, std::size_t root) {
  Tape<T>& tape = Tape<T>::current();
  GraphSink<T> sink(inputs, tape.generation(), root);
  thread_local std::uint64_t passes = 0;
  sink.pass_id = ++passes;
  const auto op_inputs = op_output_inputs(inputs);
  std::vector<Var<T>> op_input_grads(inputs.size());
  {
    RedirectScope<T> redirect(&sink);
    // The backward's own ops must record (also if the caller sits under a NoGradGuard).
    const bool grad_mode = GradMode::enabled();
    GradMode::set_enabled(true);
    struct Restore {
      bool mode;
      ~Restore() { GradMode::set_enabled(mode); }
    } restore{grad_mode};
    for (std::size_t j = 0; j < outputs.size(); ++j)
      if (outputs[j].requires_grad())
        outputs[j].accumulate_grad(grad_outputs.empty() ? Var<T>(seed_tensor(outputs, grad_outputs, j))
                                                        : grad_outputs[j]);
    for (std::size_t i = root + 1; i-- > 0;) {
      // Taken out of the table: like the first-order pass, a node's gradient is dropped once
      // it has run (the new nodes that use it keep it alive as long as they need it).
      Var<T> g = std::move(sink.node_grads[i]);
      if (!g.defined()) continue;
      // The entry appends nodes, which may move the node vector: copy what it needs first.
      const typename Tape<T>::Node& node = tape.nodes()[i];
      for (const auto& [index, k] : op_inputs)
        if (index == i && inputs[k].node_id() == node.output.get()) op_input_grads[k] = g;
      if (!node.differentiable)
        throw std::logic_error(
            std::string("op '") + node.op +
            "' has no differentiable backward (second derivatives): grad(..., create_graph = "
            "true) cannot differentiate through it. docs/how-the-tape-works.md (Double "
            "backward) lists the ops that have one; fused ops run as their plain compositions "
            "under --reference-ops (set_reference_ops)");
      const typename Tape<T>::DifferentiableBackward entry = node.differentiable;
      const typename Tape<T>::Backward closure = node.backward;
      const OutputGrad<T> output_grad(std::move(g), Var<T>(node.output));
      entry(closure, output_grad);
    }
  }
  std::vector<Var<T>> result;
  result.reserve(inputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Var<T> g = inputs[k].is_leaf() ? sink.leaf_grads[k] : op_input_grads[k];
    result.push_back(g.defined() ? g : Var<T>(Tensor<T>(inputs[k].shape())));
  }
  return result;
}

}  // namespace

template <typename T>
std::vector<Var<T>> grad(const std::vector<Var<T>>& outputs, const std::vector<Var<T>>& inputs,
                         const std::vector<Var<T>>& grad_outputs, bool create_graph) {
  check_arguments(outputs, inputs, grad_outputs);
  // The reverse pass starts at the last node any output was recorded at.
  bool any_node = false;
  std::size_t root = 0;
  for (const Var<T>& y : outputs)
    if (y.requires_grad() && !y.is_leaf()) {
      root = any_node ? std::max(root, y.node()->tape_index) : y.node()->tape_index;
      any_node = true;
    }
  if (!create_graph) return first_order_pass(outputs, inputs, grad_outputs, any_node, root);
  return graph_pass(outputs, inputs, grad_outputs, any_node ? root : 0);
}

template <typename T>
Var<T> grad(const Var<T>& output, const Var<T>& input, const Var<T>& grad_output, bool create_graph) {
  std::vector<Var<T>> seeds;
  if (grad_output.defined()) seeds.push_back(grad_output);
  return grad(std::vector<Var<T>>{output}, std::vector<Var<T>>{input}, seeds, create_graph)[0];
}

template <typename T>
Tensor<T> hvp(const std::function<Var<T>(const Var<T>&)>& f, const Tensor<T>& x,
              const Tensor<T>& v) {
  if (v.shape() != x.shape())
    throw std::invalid_argument("hvp: v has shape " + shape_str(v.shape()) + ", x has " +
                                shape_str(x.shape()));
  Var<T> xv(x.clone(), true);
  const Var<T> y = f(xv);
  if (y.numel() != 1)
    throw std::invalid_argument("hvp: f must return one element, got shape " + shape_str(y.shape()));
  const Var<T> g = grad(y, xv, Var<T>(), true);
  if (!g.requires_grad()) {  // f is at most linear in x: H = 0
    Tape<T>::current().clear();
    return Tensor<T>(x.shape());
  }
  return grad(sum(mul(g, Var<T>(v.clone()))), xv).value();
}

template <typename T>
Tensor<T> jvp(const std::function<Var<T>(const Var<T>&)>& f, const Tensor<T>& x,
              const Tensor<T>& v) {
  if (v.shape() != x.shape())
    throw std::invalid_argument("jvp: v has shape " + shape_str(v.shape()) + ", x has " +
                                shape_str(x.shape()));
  Var<T> xv(x.clone(), true);
  const Var<T> y = f(xv);
  // The cotangent's value does not matter (g is linear in it); zeros keep it cheap to read.
  const Var<T> u(Tensor<T>(y.shape()), true);
  const Var<T> g = grad(y, xv, u, true);
  if (!g.requires_grad()) {  // f does not depend on x
    Tape<T>::current().clear();
    return Tensor<T>(y.shape());
  }
  return grad(g, u, Var<T>(v.clone())).value();
}

#define FZ_INSTANTIATE_GRAD(T)                                                                    \
  template std::vector<Var<T>> grad(const std::vector<Var<T>>&, const std::vector<Var<T>>&,       \
                                    const std::vector<Var<T>>&, bool);                            \
  template Var<T> grad(const Var<T>&, const Var<T>&, const Var<T>&, bool);                        \
  template Tensor<T> hvp(const std::function<Var<T>(const Var<T>&)>&, const Tensor<T>&,           \
                         const Tensor<T>&);                                                       \
  template Tensor<T> jvp(const std::function<Var<T>(const Var<T>&)>&, const Tensor<T>&,           \
                         const Tensor<T>&);

FZ_INSTANTIATE_GRAD(float)
FZ_INSTANTIATE_GRAD(double)

#undef FZ_INSTANTIATE_GRAD

}  // namespace fz
