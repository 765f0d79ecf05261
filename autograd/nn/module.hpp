// autograd/nn/module.hpp — Parameter, StateDict and Module<T>: the base of every layer and
// bijector. A Module owns named parameters (leaf Vars that require grad), named persistent
// buffers (tensors saved in checkpoints but never optimised, e.g. an ActNorm's "initialised"
// flag or batch-norm running statistics) and named child modules. Names nest with dots:
// "coupling.0.net.conv1.weight". Everything is listed in registration order, so a model's
// parameter list — and the optimiser state indexed by it — is deterministic.
//
// A subclass registers in its constructor and keeps the returned handles:
//
//   Linear(...) { weight_ = register_parameter("weight", w); net_ = register_module("net", net); }
//
// Parameter handles share their node with the registry, and buffers share their storage, so
// load_state_dict (which copies values in place) updates what the subclass sees. Mutate
// buffers in place (fill, copy_from, operator[]), never by assigning a new tensor.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../var.hpp"
#include "../../tensor/tensor.hpp"

namespace fz {

// A trainable tensor: a leaf Var with requires_grad set.
template <typename T>
using Parameter = Var<T>;

template <typename T>
Parameter<T> make_parameter(Tensor<T> value) {
  return Var<T>(std::move(value), true);
}

// Name -> tensor in insertion order, with lookup by name. Used for module state (parameters
// and buffers), optimiser state and EMA shadows, i.e. everything a checkpoint stores.
template <typename T>
class StateDict {
 public:
  using Entry = std::pair<std::string, Tensor<T>>;

  // Adds an entry; throws std::invalid_argument if the name is already present.
  void insert(const std::string& name, Tensor<T> value);
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Throws std::out_of_range naming the missing entry.
  const Tensor<T>& at(const std::string& name) const;
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<std::string> names() const;

  typename std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  typename std::vector<Entry>::const_iterator end() const { return entries_.end(); }

 private:
  std::vector<Entry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
};

template <typename T>
class Module {
 public:
  using NamedParameter = std::pair<std::string, Var<T>>;
  using NamedBuffer = std::pair<std::string, Tensor<T>>;
  using NamedModule = std::pair<std::string, std::shared_ptr<Module<T>>>;

  Module() = default;
  virtual ~Module() = default;
  // Modules are identities (optimisers hold their parameters): no copies.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Short type name used in error messages and printing ("Linear", "ActNorm", ...).
  virtual std::string type_name() const { return "Module"; }

  // Recursive listings, in registration order: own entries first, then each child's
  // entries prefixed by "<child name>.".
  std::vector<Var<T>> parameters() const;
  std::vector<NamedParameter> named_parameters() const;
  std::vector<NamedBuffer> named_buffers() const;
  // Direct children only.
  const std::vector<NamedModule>& children() const { return children_; }

  // Number of scalar parameters (sum of numel over parameters()).
  std::size_t num_parameters() const;

  // Train/eval mode, set recursively on every descendant. Layers whose behaviour differs
  // (batch norm statistics, dropout) read is_training().
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Forgets the gradients of every parameter (recursive).
  void zero_grad();

  // Parameters and buffers by dotted name (values are shared, not copied: clone them to
  // keep a snapshot that later training must not change).
  StateDict<T> state_dict() const;
  // Copies every entry of `state` into the matching parameter or buffer (in place, so
  // handles held by subclasses and optimisers stay valid). Throws std::invalid_argument
  // listing missing and unexpected names, or naming the first entry whose shape differs.
  // With strict = false, missing and unexpected names are ignored (shapes still checked).
  void load_state_dict(const StateDict<T>& state, bool strict = true);

  // Own (non-recursive) entries by local name; throw std::out_of_range if absent.
  const Var<T>& parameter(const std::string& name) const;
  Tensor<T>& buffer(const std::string& name);
  const Tensor<T>& buffer(const std::string& name) const;
  bool has_parameter(const std::string& name) const;
  bool has_buffer(const std::string& name) const;

 protected:
  // Registers a new leaf parameter (requires_grad) and returns its handle. Names must be
  // non-empty, without dots, and unique among this module's parameters, buffers, children.
  Var<T> register_parameter(const std::string& name, Tensor<T> value);
  // Registers an existing Var (e.g. a parameter shared by two modules); must be a leaf.
  Var<T> register_parameter(const std::string& name, const Var<T>& parameter);
  // Registers a persistent buffer; the returned tensor shares storage with the registry.
  Tensor<T> register_buffer(const std::string& name, Tensor<T> value);
  // Registers a child module; returns it with its own type for the subclass to keep.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }

 private:
  void check_new_name(const std::string& name) const;
  void add_child(const std::string& name, std::shared_ptr<Module<T>> child);
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) const;
  void collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) const;

  std::vector<NamedParameter> parameters_;
  std::vector<NamedBuffer> buffers_;
  std::vector<NamedModule> children_;
  bool training_ = true;
};

// A module mapping one Var to one Var (Linear, Conv2d, conditioner nets).
template <typename T>
class Layer : public Module<T> {
 public:
  virtual Var<T> forward(const Var<T>& x) = 0;
  Var<T> operator()(const Var<T>& x) { return forward(x); }
};

extern template class StateDict<float>;
extern template class StateDict<double>;
extern template class Module<float>;
extern template class Module<double>;

}  // namespace fz
