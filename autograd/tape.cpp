// autograd/tape.cpp — recording nodes and the single reverse loop.
#include "autograd/tape.hpp"

namespace fz {

template <typename T>
Tape<T>& Tape<T>::current() {
  thread_local Tape<T> tape;
  return tape;
}

template <typename T>
void Tape<T>::record(const char* op, const std::shared_ptr<detail::VarNode<T>>& output,
                     Backward backward, DifferentiableBackward differentiable) {
  output->is_leaf = false;
  output->requires_grad = true;
  output->tape_generation = generation_;
  output->tape_index = nodes_.size();
  nodes_.push_back(Node{op, output, std::move(backward), differentiable});
}

template <typename T>
void Tape<T>::run_backward(std::size_t from_index) {
  using Clock = std::chrono::steady_clock;
  for (std::size_t i = from_index + 1; i-- > 0;) {
    Node& node = nodes_[i];
    // An output that no gradient reached contributes nothing: skip its closure.
    if (!node.output->grad.defined()) continue;
    if (observer_) {
      const auto start = Clock::now();
      node.backward(node.output->grad);
      observer_->on_backward_node(*this, i,
                                  std::chrono::duration<double>(Clock::now() - start).count());
    } else {
      node.backward(node.output->grad);
    }
    // Intermediate gradients are not needed after their node ran; free them early.
    node.output->grad = Tensor<T>();
  }
  clear();
}

template <typename T>
void Tape<T>::clear() {
  if (observer_) observer_->on_clear(*this);
  // Destroy nodes back to front so saved tensors go in reverse creation order.
  while (!nodes_.empty()) nodes_.pop_back();
  ++generation_;
}

template class Tape<float>;
template class Tape<double>;

}  // namespace fz
