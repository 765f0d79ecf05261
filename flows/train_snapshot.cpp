// flows/train_snapshot.cpp — capture and restore of the training state.
#include "flows/train_snapshot.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "autograd/nn/non_finite_scan.hpp"
#include "tensor/memory_counter.hpp"

namespace fz {

namespace {

// dst <- deep copies of src's tensors, reusing dst's storage when names and shapes match.
template <typename T>
void copy_state(const StateDict<T>& src, StateDict<T>& dst) {
  bool reuse = dst.size() == src.size();
  for (auto s = src.begin(), d = dst.begin(); reuse && s != src.end(); ++s, ++d)
    reuse = d->first == s->first && d->second.shape() == s->second.shape();
  if (reuse) {
    auto d = dst.begin();
    for (const auto& entry : src) {
      Tensor<T> target = (d++)->second;  // shares the snapshot's storage
      target.copy_from(entry.second);
    }
    return;
  }
  StateDict<T> fresh;
  for (const auto& [name, t] : src) {
    fresh.insert(name, t.clone());
    set_memory_kind(fresh.at(name), MemoryKind::parameter_state);
  }
  dst = std::move(fresh);
}

}  // namespace

template <typename T>
void TrainSnapshot<T>::capture(const Module<T>& model, const Optimizer<T>& optimizer, const EMA<T>* ema,
                               std::size_t step) {
  capture_model(model, step);
  capture_optimizer(optimizer, ema);
}

template <typename T>
void TrainSnapshot<T>::capture_model(const Module<T>& model, std::size_t step) {
  copy_state(model.state_dict(), model_);  // state_dict() shares the live tensors: copy them
  has_optimizer_ = false;
  step_ = step;
  valid_ = true;
}

template <typename T>
void TrainSnapshot<T>::capture_optimizer(const Optimizer<T>& optimizer, const EMA<T>* ema) {
  if (!valid_) throw std::logic_error("TrainSnapshot::capture_optimizer: no model half captured");
  copy_state(optimizer.state_view(), optimizer_);  // the views share the live tensors: copied here
  if (ema) copy_state(ema->state_view(), ema_);
  else ema_ = StateDict<T>();
  has_optimizer_ = true;
}

template <typename T>
void TrainSnapshot<T>::swap_model(TrainSnapshot& other) {
  std::swap(model_, other.model_);
  std::swap(step_, other.step_);
  std::swap(valid_, other.valid_);
  has_optimizer_ = other.has_optimizer_ = false;  // neither optimiser half goes with its model now
}

template <typename T>
void TrainSnapshot<T>::restore(Module<T>& model, Optimizer<T>& optimizer, EMA<T>* ema) const {
  if (!valid_) throw std::logic_error("TrainSnapshot::restore: nothing was captured");
  if (has_optimizer_ && (ema != nullptr) != !ema_.empty())
    throw std::invalid_argument("TrainSnapshot::restore: the snapshot was captured " +
                                std::string(ema ? "without" : "with") + " parameter averages");
  model.load_state_dict(model_);
  if (!has_optimizer_) return;
  optimizer.load_state_dict(optimizer_);
  if (ema) ema->load_state_dict(ema_);
}

template <typename T>
bool TrainSnapshot<T>::all_finite() const {
  return first_non_finite(model_).empty() &&
         (!has_optimizer_ || (first_non_finite(optimizer_).empty() && first_non_finite(ema_).empty()));
}

template class TrainSnapshot<float>;
template class TrainSnapshot<double>;

}  // namespace fz
