// autograd/var.cpp — leaves, gradient accumulation and the entry point of the reverse pass.
#include "autograd/var.hpp"

#include "tensor/elementwise.hpp"
#include "tensor/memory_counter.hpp"
#include "tensor/simd.hpp"

namespace fz {

namespace detail {
template <typename T>
GradRedirect<T>*& grad_redirect() {
  thread_local GradRedirect<T>* redirect = nullptr;
  return redirect;
}
template GradRedirect<float>*& grad_redirect<float>();
template GradRedirect<double>*& grad_redirect<double>();
}  // namespace detail

template <typename T>
Var<T>::Var(Tensor<T> value, bool requires_grad) : node_(std::make_shared<detail::VarNode<T>>()) {
  if (!value.defined()) throw std::invalid_argument("Var: cannot wrap an undefined tensor");
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

template <typename T>
void Var<T>::set_requires_grad(bool r) {
  if (!node_->is_leaf)
    throw std::logic_error("set_requires_grad: only leaves (not op outputs) can change it");
  node_->requires_grad = r;
}

template <typename T>
void Var<T>::accumulate_grad(Tensor<T> g) const {
  if (!node_->requires_grad) return;
  if (g.shape() != node_->value.shape())
    throw std::logic_error("accumulate_grad: gradient of shape " + shape_str(g.shape()) +
                           " for a variable of shape " + shape_str(node_->value.shape()));
  // Inside grad() a leaf's gradient goes to grad()'s result, not into .grad (one thread-local
  // read, for leaves only: op outputs, most of the calls, never look).
  if (node_->is_leaf)
    if (detail::GradRedirect<T>* redirect = detail::grad_redirect<T>()) {
      redirect->add(node_, std::move(g));
      return;
    }
  Tensor<T>& grad = node_->grad;
  if (!grad.defined()) {
    // A leaf's gradient belongs to its owner (optimisers and clipping scale it in place), so it
    // adopts only a buffer nobody else holds and copies a shared one. An op output's gradient
    // is only ever read, so it may share g (an add passes the same g to both inputs): no copy.
    grad = g.unique() || !node_->is_leaf ? std::move(g) : g.clone();
    // A parameter's gradient is parameter state like its value (tensor/memory_counter.hpp):
    // the leaf owns this buffer, so marking it marks nothing else.
    if (node_->is_leaf) set_memory_kind(grad, memory_kind(node_->value));
    return;
  }
  if (grad.unique()) {  // accumulate in place
    using B = simd::batch<T>;
    simd::map(grad.numel(), grad.data(), [](const B& a, const B& b) { return a + b; },
              static_cast<const T*>(grad.data()), g.data());
  } else {  // shared with another gradient: a new buffer, leaving the other one as it was
    grad = add(grad, g);
    if (node_->is_leaf) set_memory_kind(grad, memory_kind(node_->value));
  }
}

template <typename T>
void Var<T>::accumulate_grad(const Var& g) const {
  if (!node_->requires_grad) return;
  if (g.shape() != node_->value.shape())
    throw std::logic_error("accumulate_grad: gradient of shape " + shape_str(g.shape()) +
                           " for a variable of shape " + shape_str(node_->value.shape()));
  detail::GradRedirect<T>* redirect = detail::grad_redirect<T>();
  if (!redirect)
    throw std::logic_error("accumulate_grad(Var): a gradient as a Var only exists inside "
                           "grad(..., create_graph = true) (autograd/grad.hpp)");
  redirect->add(node_, g);
}

template <typename T>
void Var<T>::check_backward_allowed() const {
  if (!node_) throw std::logic_error("backward: called on an undefined Var");
  if (!node_->requires_grad)
    throw std::logic_error("backward: this value does not require grad (no input of the "
                           "computation requires grad, or it ran under NoGradGuard)");
  if (!node_->is_leaf) {
    const Tape<T>& tape = Tape<T>::current();
    if (node_->tape_generation != tape.generation() || node_->tape_index >= tape.size())
      throw std::logic_error(
          "backward: the tape that recorded this value was already consumed by an earlier "
          "backward() (backward twice on the same graph, or a second loss from a forward pass "
          "that already ran backward: add the losses and call backward once); run the forward "
          "again");
  }
}

template <typename T>
void Var<T>::backward() const {
  check_backward_allowed();
  if (node_->value.numel() != 1)
    throw std::logic_error("backward: needs a scalar (one-element) value, got shape " +
                           shape_str(node_->value.shape()) +
                           "; pass a seed gradient of that shape instead");
  backward(Tensor<T>(node_->value.shape(), T(1)));
}

template <typename T>
void Var<T>::backward(const Tensor<T>& seed) const {
  check_backward_allowed();
  if (seed.shape() != node_->value.shape())
    throw std::invalid_argument("backward: seed gradient of shape " + shape_str(seed.shape()) +
                                " for a value of shape " + shape_str(node_->value.shape()));
  accumulate_grad(seed.clone());
  if (node_->is_leaf) return;
  Tape<T>::current().run_backward(node_->tape_index);
}

template class Var<float>;
template class Var<double>;

}  // namespace fz
