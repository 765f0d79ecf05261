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
void Tape<T>::run_range(std::size_t begin, std::size_t from_index) {
  using Clock = std::chrono::steady_clock;
  for (std::size_t i = from_index + 1; i-- > begin;) {
    // An output that no gradient reached contributes nothing: skip its closure.
    if (!nodes_[i].output->grad.defined()) continue;
    // The closure is moved out and the output held before the call: a checkpointed segment's
    // closure (autograd/checkpoint.hpp) records nodes after the end of this vector while it
    // runs, which may reallocate it. Its saved tensors go as soon as it has run.
    Backward backward = std::move(nodes_[i].backward);
    const std::shared_ptr<detail::VarNode<T>> output = nodes_[i].output;
    if (observer_) {
      const auto start = Clock::now();
      backward(output->grad);
      observer_->on_backward_node(*this, i,
                                  std::chrono::duration<double>(Clock::now() - start).count());
    } else {
      backward(output->grad);
    }
    // Intermediate gradients are not needed after their node ran; free them early.
    output->grad = Tensor<T>();
  }
}

template <typename T>
void Tape<T>::run_backward(std::size_t from_index) {
  run_range(0, from_index);
  clear();
}

template <typename T>
void Tape<T>::run_backward_after(std::size_t mark) {
  if (nodes_.size() > mark) run_range(mark, nodes_.size() - 1);
  truncate(mark);
}

template <typename T>
void Tape<T>::truncate(std::size_t mark) {
  while (nodes_.size() > mark) nodes_.pop_back();
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
