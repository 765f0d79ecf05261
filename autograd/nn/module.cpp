// autograd/nn/module.cpp — registration, recursive listings, train/eval and state dicts.
#include "autograd/nn/module.hpp"

#include <stdexcept>
#include <unordered_set>

namespace fz {

// ---- StateDict --------------------------------------------------------------------------

template <typename T>
void StateDict<T>::insert(const std::string& name, Tensor<T> value) {
  if (index_.count(name))
    throw std::invalid_argument("StateDict: duplicate entry '" + name + "'");
  index_.emplace(name, entries_.size());
  entries_.emplace_back(name, std::move(value));
}

template <typename T>
const Tensor<T>& StateDict<T>::at(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw std::out_of_range("StateDict: no entry named '" + name + "'");
  return entries_[it->second].second;
}

template <typename T>
std::vector<std::string> StateDict<T>::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.first);
  return out;
}

// ---- Module: registration ---------------------------------------------------------------

template <typename T>
void Module<T>::check_new_name(const std::string& name) const {
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument(type_name() + ": invalid name '" + name +
                                "' (must be non-empty and contain no '.')");
  const auto taken = [&name](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  if (taken(parameters_) || taken(buffers_) || taken(children_))
    throw std::invalid_argument(type_name() + ": name '" + name + "' is already registered");
}

template <typename T>
Var<T> Module<T>::register_parameter(const std::string& name, Tensor<T> value) {
  if (!value.defined())
    throw std::invalid_argument(type_name() + ": parameter '" + name + "' is undefined");
  return register_parameter(name, make_parameter(std::move(value)));
}

template <typename T>
Var<T> Module<T>::register_parameter(const std::string& name, const Var<T>& parameter) {
  check_new_name(name);
  if (!parameter.defined() || !parameter.is_leaf())
    throw std::invalid_argument(type_name() + ": parameter '" + name +
                                "' must be a defined leaf Var");
  parameters_.emplace_back(name, parameter);
  return parameter;
}

template <typename T>
Tensor<T> Module<T>::register_buffer(const std::string& name, Tensor<T> value) {
  check_new_name(name);
  if (!value.defined())
    throw std::invalid_argument(type_name() + ": buffer '" + name + "' is undefined");
  buffers_.emplace_back(name, std::move(value));
  return buffers_.back().second;
}

template <typename T>
void Module<T>::add_child(const std::string& name, std::shared_ptr<Module<T>> child) {
  check_new_name(name);
  if (!child) throw std::invalid_argument(type_name() + ": child module '" + name + "' is null");
  if (child.get() == this)
    throw std::invalid_argument(type_name() + ": a module cannot be its own child");
  child->train(training_);
  children_.emplace_back(name, std::move(child));
}

// ---- Module: listings -------------------------------------------------------------------

template <typename T>
void Module<T>::collect_parameters(const std::string& prefix,
                                   std::vector<NamedParameter>& out) const {
  for (const auto& p : parameters_) out.emplace_back(prefix + p.first, p.second);
  for (const auto& c : children_) c.second->collect_parameters(prefix + c.first + ".", out);
}

template <typename T>
void Module<T>::collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) const {
  for (const auto& b : buffers_) out.emplace_back(prefix + b.first, b.second);
  for (const auto& c : children_) c.second->collect_buffers(prefix + c.first + ".", out);
}

template <typename T>
std::vector<typename Module<T>::NamedParameter> Module<T>::named_parameters() const {
  std::vector<NamedParameter> all;
  collect_parameters("", all);
  // A parameter shared by two submodules is listed once (its first name), so an optimiser
  // never updates it twice.
  std::vector<NamedParameter> out;
  out.reserve(all.size());
  std::unordered_set<const void*> seen;
  for (auto& p : all)
    if (seen.insert(p.second.node_id()).second) out.push_back(std::move(p));
  return out;
}

template <typename T>
std::vector<Var<T>> Module<T>::parameters() const {
  std::vector<Var<T>> out;
  for (auto& p : named_parameters()) out.push_back(std::move(p.second));
  return out;
}

template <typename T>
std::vector<typename Module<T>::NamedBuffer> Module<T>::named_buffers() const {
  std::vector<NamedBuffer> out;
  collect_buffers("", out);
  return out;
}

template <typename T>
std::size_t Module<T>::num_parameters() const {
  std::size_t n = 0;
  for (const auto& p : named_parameters()) n += p.second.numel();
  return n;
}

// ---- Module: modes and gradients ---------------------------------------------------------

template <typename T>
void Module<T>::train(bool on) {
  training_ = on;
  for (auto& c : children_) c.second->train(on);
}

template <typename T>
void Module<T>::zero_grad() {
  for (auto& p : parameters_) p.second.zero_grad();
  for (auto& c : children_) c.second->zero_grad();
}

// ---- Module: own entries by name ---------------------------------------------------------

template <typename T>
const Var<T>& Module<T>::parameter(const std::string& name) const {
  for (const auto& p : parameters_)
    if (p.first == name) return p.second;
  throw std::out_of_range(type_name() + ": no parameter named '" + name + "'");
}

template <typename T>
Tensor<T>& Module<T>::buffer(const std::string& name) {
  for (auto& b : buffers_)
    if (b.first == name) return b.second;
  throw std::out_of_range(type_name() + ": no buffer named '" + name + "'");
}

template <typename T>
const Tensor<T>& Module<T>::buffer(const std::string& name) const {
  return const_cast<Module<T>*>(this)->buffer(name);
}

template <typename T>
bool Module<T>::has_parameter(const std::string& name) const {
  for (const auto& p : parameters_)
    if (p.first == name) return true;
  return false;
}

template <typename T>
bool Module<T>::has_buffer(const std::string& name) const {
  for (const auto& b : buffers_)
    if (b.first == name) return true;
  return false;
}

// ---- Module: state dicts -----------------------------------------------------------------

template <typename T>
StateDict<T> Module<T>::state_dict() const {
  StateDict<T> state;
  std::vector<NamedParameter> params;
  collect_parameters("", params);
  for (const auto& p : params) state.insert(p.first, p.second.value());
  for (const auto& b : named_buffers()) state.insert(b.first, b.second);
  return state;
}

namespace {

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i == 5) return s + ", ... (" + std::to_string(names.size()) + " in all)";
    s += (i ? ", '" : "'") + names[i] + "'";
  }
  return s;
}

}  // namespace

template <typename T>
void Module<T>::load_state_dict(const StateDict<T>& state, bool strict) {
  // Targets: the live tensors of every parameter and buffer, by dotted name.
  std::vector<std::pair<std::string, Tensor<T>*>> targets;
  std::vector<NamedParameter> params;
  collect_parameters("", params);
  for (auto& p : params) targets.emplace_back(p.first, &p.second.mutable_value());
  // Buffers: named_buffers() copies the handles, which share storage with the registry.
  std::vector<NamedBuffer> buffers = named_buffers();
  for (auto& b : buffers) targets.emplace_back(b.first, &b.second);

  std::vector<std::string> missing, unexpected;
  std::unordered_set<std::string> known;
  for (const auto& t : targets) {
    known.insert(t.first);
    if (!state.contains(t.first)) missing.push_back(t.first);
  }
  for (const auto& e : state)
    if (!known.count(e.first)) unexpected.push_back(e.first);
  if (strict && (!missing.empty() || !unexpected.empty())) {
    std::string msg = type_name() + "::load_state_dict: state does not match the module.";
    if (!missing.empty()) msg += " Missing: " + join_names(missing) + ".";
    if (!unexpected.empty()) msg += " Unexpected: " + join_names(unexpected) + ".";
    throw std::invalid_argument(msg);
  }
  // Check every shape before copying anything, so a failed load leaves the module intact.
  for (const auto& t : targets) {
    if (!state.contains(t.first)) continue;
    const Tensor<T>& src = state.at(t.first);
    if (src.shape() != t.second->shape())
      throw std::invalid_argument(type_name() + "::load_state_dict: '" + t.first +
                                  "' has shape " + shape_str(src.shape()) +
                                  " in the state but " + shape_str(t.second->shape()) +
                                  " in the module");
  }
  for (auto& t : targets)
    if (state.contains(t.first)) {
      const Tensor<T>& src = state.at(t.first);
      if (!src.shares_storage_with(*t.second)) t.second->copy_from(src);
    }
}

template class StateDict<float>;
template class StateDict<double>;
template class Module<float>;
template class Module<double>;

}  // namespace fz
