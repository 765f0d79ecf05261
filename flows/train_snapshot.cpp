// flows/train_snapshot.cpp — capture and restore of the training state.
#include "flows/train_snapshot.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/nn/non_finite_scan.hpp"

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
  for (const auto& [name, t] : src) fresh.insert(name, t.clone());
  dst = std::move(fresh);
}

}  // namespace

template <typename T>
void TrainSnapshot<T>::capture(const Module<T>& model, const Optimizer<T>& optimizer, const EMA<T>* ema,
                               std::size_t step) {
  copy_state(model.state_dict(), model_);  // state_dict() shares the live tensors: copy them
  optimizer_ = optimizer.state_dict();     // these two are copies already
  ema_ = ema ? ema->state_dict() : StateDict<T>();
  step_ = step;
  valid_ = true;
}

template <typename T>
void TrainSnapshot<T>::restore(Module<T>& model, Optimizer<T>& optimizer, EMA<T>* ema) const {
  if (!valid_) throw std::logic_error("TrainSnapshot::restore: nothing was captured");
  if ((ema != nullptr) != !ema_.empty())
    throw std::invalid_argument("TrainSnapshot::restore: the snapshot was captured " +
                                std::string(ema ? "without" : "with") + " parameter averages");
  model.load_state_dict(model_);
  optimizer.load_state_dict(optimizer_);
  if (ema) ema->load_state_dict(ema_);
}

template <typename T>
bool TrainSnapshot<T>::all_finite() const {
  return first_non_finite(model_).empty() && first_non_finite(optimizer_).empty() &&
         first_non_finite(ema_).empty();
}

template class TrainSnapshot<float>;
template class TrainSnapshot<double>;

}  // namespace fz
