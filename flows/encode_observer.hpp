// flows/encode_observer.hpp — watching the real forward path. FlowModel::encode and
// Chain::forward report each step they take to the observer installed on the current thread
// (EncodeObserverScope), so a tool that wants per-layer numbers (flows/logdet_breakdown.cpp)
// reads them off the computation log_prob really does instead of re-walking the model.
//
// Calls nest like the computation: enter_stage("preprocess" | "scale<s>") ... leave_stage()
// around each chain encode runs, and inside it enter_layer / leave_layer around every layer of
// every Chain (a nested Chain's layers are reported between its own enter and leave). With no
// observer installed the cost is one thread-local load per Chain::forward.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "bijector.hpp"

namespace fz {

template <typename T>
class Split;
template <typename T>
struct SplitOutput;
template <typename T>
class Distribution;

template <typename T>
class EncodeObserver {
 public:
  virtual ~EncodeObserver() = default;
  // FlowModel::encode: about to run the preprocessing chain (scale 0) or scale `scale`'s chain.
  virtual void enter_stage(const std::string& /*name*/, std::size_t /*scale*/) {}
  virtual void leave_stage() {}
  // Chain::forward: layer `index` of a chain is about to run / has run, giving `out`.
  virtual void enter_layer(std::size_t /*index*/, const std::shared_ptr<Bijector<T>>& /*layer*/) {}
  virtual void leave_layer(std::size_t /*index*/, const std::shared_ptr<Bijector<T>>& /*layer*/,
                           const Transformed<T>& /*out*/) {}
  // FlowModel::encode: scale `scale`'s split factored out `out.z` with log-density out.log_prob.
  virtual void on_split(std::size_t /*scale*/, const std::shared_ptr<Split<T>>& /*split*/,
                        const SplitOutput<T>& /*out*/) {}
  // FlowModel::encode: the top latent and its log-density under the base distribution.
  virtual void on_top(const Distribution<T>& /*base*/, const Var<T>& /*latent*/, const Var<T>& /*log_prob*/) {}
};

// The observer installed on this thread, or null.
template <typename T>
EncodeObserver<T>* encode_observer();

// Installs `observer` for the scope's lifetime (restoring the previous one after).
template <typename T>
class EncodeObserverScope {
 public:
  explicit EncodeObserverScope(EncodeObserver<T>* observer);
  ~EncodeObserverScope();
  EncodeObserverScope(const EncodeObserverScope&) = delete;
  EncodeObserverScope& operator=(const EncodeObserverScope&) = delete;

 private:
  EncodeObserver<T>* previous_;
};

extern template class EncodeObserverScope<float>;
extern template class EncodeObserverScope<double>;

}  // namespace fz
