// autograd/optim/optimizer.cpp — parameter bookkeeping, per-parameter state and checkpoints.
#include "autograd/optim/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <unordered_set>

namespace fz {

template <typename T>
Optimizer<T>::Optimizer(std::vector<Var<T>> params, double lr)
    : params_(std::move(params)), lr_(lr), param_steps_(params_.size(), 0) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    throw std::invalid_argument("Optimizer: learning rate must be finite and >= 0, got " +
                                std::to_string(lr));
  std::unordered_set<const void*> seen;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Var<T>& p = params_[i];
    if (!p.defined() || !p.is_leaf())
      throw std::invalid_argument("Optimizer: parameter " + std::to_string(i) +
                                  " is not a defined leaf Var");
    if (!seen.insert(p.node_id()).second)
      throw std::invalid_argument("Optimizer: parameter " + std::to_string(i) +
                                  " appears twice in the list");
  }
}

template <typename T>
void Optimizer<T>::set_lr(double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    throw std::invalid_argument(type_name() + ": learning rate must be finite and >= 0, got " +
                                std::to_string(lr));
  lr_ = lr;
}

template <typename T>
void Optimizer<T>::check_non_negative(double v, const char* what, const std::string& who) {
  if (!(v >= 0.0) || !std::isfinite(v))
    throw std::invalid_argument(who + ": " + what + " must be finite and >= 0, got " +
                                std::to_string(v));
}

template <typename T>
void Optimizer<T>::check_beta(double beta, const char* what, const std::string& who) {
  if (!(beta >= 0.0 && beta < 1.0))
    throw std::invalid_argument(who + ": " + what + " must be in [0, 1), got " +
                                std::to_string(beta));
}

template <typename T>
std::size_t Optimizer<T>::add_state_slot(const std::string& name) {
  Slot slot;
  slot.name = name;
  slot.tensors.reserve(params_.size());
  for (const Var<T>& p : params_) slot.tensors.emplace_back(p.shape());
  slots_.push_back(std::move(slot));
  return slots_.size() - 1;
}

template <typename T>
void Optimizer<T>::step() {
  ++step_count_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Var<T>& p = params_[i];
    if (!p.requires_grad() || !p.grad().defined()) continue;
    update(i, p.mutable_value(), p.grad(), ++param_steps_[i]);
  }
}

template <typename T>
void Optimizer<T>::zero_grad() {
  for (const Var<T>& p : params_) p.zero_grad();
}

template <typename T>
StateDict<T> Optimizer<T>::state_view() const {
  StateDict<T> state;
  state.insert("step", Tensor<T>::scalar(static_cast<T>(step_count_)));
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::string prefix = "state." + std::to_string(i) + ".";
    state.insert(prefix + "step", Tensor<T>::scalar(static_cast<T>(param_steps_[i])));
    for (const Slot& s : slots_) state.insert(prefix + s.name, s.tensors[i]);
  }
  return state;
}

template <typename T>
StateDict<T> Optimizer<T>::state_dict() const {
  StateDict<T> state;
  for (const auto& [name, t] : state_view()) state.insert(name, t.clone());
  return state;
}

template <typename T>
void Optimizer<T>::load_state_dict(const StateDict<T>& state) {
  const auto get = [&](const std::string& name, const Shape& shape) -> const Tensor<T>& {
    if (!state.contains(name))
      throw std::invalid_argument(type_name() + "::load_state_dict: missing entry '" + name +
                                  "' (was the state saved by a different optimiser or for a "
                                  "different parameter list?)");
    const Tensor<T>& t = state.at(name);
    if (t.shape() != shape)
      throw std::invalid_argument(type_name() + "::load_state_dict: '" + name + "' has shape " +
                                  shape_str(t.shape()) + ", expected " + shape_str(shape));
    return t;
  };
  const auto count = [](const Tensor<T>& t) {
    const T v = t[0];
    if (!(v >= T(0))) throw std::invalid_argument("Optimizer::load_state_dict: negative step");
    return static_cast<std::size_t>(std::llround(static_cast<double>(v)));
  };
  // Validate everything first; then copy.
  const std::size_t total = count(get("step", Shape{}));
  std::vector<std::size_t> steps(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::string prefix = "state." + std::to_string(i) + ".";
    steps[i] = count(get(prefix + "step", Shape{}));
    for (const Slot& s : slots_) get(prefix + s.name, params_[i].shape());
  }
  const std::string extra = "state." + std::to_string(params_.size()) + ".step";
  if (state.contains(extra))
    throw std::invalid_argument(type_name() + "::load_state_dict: the state has more "
                                "parameters than this optimiser (" +
                                std::to_string(params_.size()) + ")");
  step_count_ = total;
  param_steps_ = steps;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::string prefix = "state." + std::to_string(i) + ".";
    for (Slot& s : slots_) s.tensors[i].copy_from(state.at(prefix + s.name));
  }
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace fz
