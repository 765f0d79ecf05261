// autograd/optim/ema.cpp — shadow updates and swapping for evaluation.
#include "autograd/optim/ema.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "tensor/parallel.hpp"

namespace fz {

template <typename T>
EMA<T>::EMA(std::vector<Var<T>> params, double decay, bool warmup)
    : params_(std::move(params)), decay_(decay), warmup_(warmup) {
  if (!(decay >= 0.0 && decay <= 1.0))
    throw std::invalid_argument("EMA: decay must be in [0, 1], got " + std::to_string(decay));
  shadows_.reserve(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].defined())
      throw std::invalid_argument("EMA: parameter " + std::to_string(i) + " is undefined");
    shadows_.push_back(params_[i].value().clone());
  }
}

template <typename T>
double EMA<T>::current_decay() const {
  if (!warmup_) return decay_;
  const double n = static_cast<double>(num_updates_);
  return std::min(decay_, (1.0 + n) / (10.0 + n));
}

template <typename T>
void EMA<T>::update() {
  if (swapped_in_)
    throw std::logic_error("EMA::update: the averages are swapped into the parameters; "
                           "call swap_out() first");
  const T d = static_cast<T>(current_decay());
  const T one_minus_d = static_cast<T>(1.0 - current_decay());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    T* s = shadows_[i].data();
    const T* p = params_[i].value().data();
    parallel_for(shadows_[i].numel(), kParallelGrain, [=](std::size_t begin, std::size_t end) {
      for (std::size_t k = begin; k < end; ++k) s[k] = d * s[k] + one_minus_d * p[k];
    });
  }
  ++num_updates_;
}

template <typename T>
void EMA<T>::swap_in() {
  if (swapped_in_) throw std::logic_error("EMA::swap_in: already swapped in");
  backup_.clear();
  backup_.reserve(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    backup_.push_back(params_[i].value().clone());
    params_[i].mutable_value().copy_from(shadows_[i]);
  }
  swapped_in_ = true;
}

template <typename T>
void EMA<T>::swap_out() {
  if (!swapped_in_) throw std::logic_error("EMA::swap_out: not swapped in");
  for (std::size_t i = 0; i < params_.size(); ++i) params_[i].mutable_value().copy_from(backup_[i]);
  backup_.clear();
  swapped_in_ = false;
}

template <typename T>
void EMA<T>::copy_to_params() {
  if (swapped_in_) throw std::logic_error("EMA::copy_to_params: call swap_out() first");
  for (std::size_t i = 0; i < params_.size(); ++i) params_[i].mutable_value().copy_from(shadows_[i]);
}

template <typename T>
void EMA<T>::restart() {
  if (swapped_in_) throw std::logic_error("EMA::restart: call swap_out() first");
  for (std::size_t i = 0; i < params_.size(); ++i) shadows_[i].copy_from(params_[i].value());
  num_updates_ = 0;
}

template <typename T>
StateDict<T> EMA<T>::state_view() const {
  StateDict<T> state;
  state.insert("num_updates", Tensor<T>::scalar(static_cast<T>(num_updates_)));
  for (std::size_t i = 0; i < shadows_.size(); ++i) state.insert("shadow." + std::to_string(i), shadows_[i]);
  return state;
}

template <typename T>
StateDict<T> EMA<T>::state_dict() const {
  StateDict<T> state;
  for (const auto& [name, t] : state_view()) state.insert(name, t.clone());
  return state;
}

template <typename T>
void EMA<T>::load_state_dict(const StateDict<T>& state) {
  const auto get = [&](const std::string& name, const Shape& shape) -> const Tensor<T>& {
    if (!state.contains(name))
      throw std::invalid_argument("EMA::load_state_dict: missing entry '" + name + "'");
    const Tensor<T>& t = state.at(name);
    if (t.shape() != shape)
      throw std::invalid_argument("EMA::load_state_dict: '" + name + "' has shape " +
                                  shape_str(t.shape()) + ", expected " + shape_str(shape));
    return t;
  };
  const T n = get("num_updates", Shape{})[0];
  for (std::size_t i = 0; i < shadows_.size(); ++i)
    get("shadow." + std::to_string(i), shadows_[i].shape());
  if (!(n >= T(0))) throw std::invalid_argument("EMA::load_state_dict: negative num_updates");
  num_updates_ = static_cast<std::size_t>(std::llround(static_cast<double>(n)));
  for (std::size_t i = 0; i < shadows_.size(); ++i)
    shadows_[i].copy_from(state.at("shadow." + std::to_string(i)));
}

template class EMA<float>;
template class EMA<double>;

}  // namespace fz
