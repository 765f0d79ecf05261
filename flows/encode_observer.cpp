// flows/encode_observer.cpp — the per-thread observer slot.
#include "flows/encode_observer.hpp"

namespace fz {

namespace {

template <typename T>
EncodeObserver<T>*& slot() {
  thread_local EncodeObserver<T>* current = nullptr;
  return current;
}

}  // namespace

template <typename T>
EncodeObserver<T>* encode_observer() {
  return slot<T>();
}

template <typename T>
EncodeObserverScope<T>::EncodeObserverScope(EncodeObserver<T>* observer) : previous_(slot<T>()) {
  slot<T>() = observer;
}

template <typename T>
EncodeObserverScope<T>::~EncodeObserverScope() {
  slot<T>() = previous_;
}

template EncodeObserver<float>* encode_observer<float>();
template EncodeObserver<double>* encode_observer<double>();
template class EncodeObserverScope<float>;
template class EncodeObserverScope<double>;

}  // namespace fz
