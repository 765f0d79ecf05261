// flows/bijector.cpp — Chain and the small log-det helpers shared by every bijector.
#include "flows/bijector.hpp"

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_layout.hpp"
#include "autograd/ops_reduce.hpp"
#include "flows/encode_observer.hpp"
#include "flows/memory_saving.hpp"

namespace fz {

template <typename T>
Var<T> zero_logdet(std::size_t batch) {
  return Var<T>(Tensor<T>({batch}, T(0)), false);
}

template <typename T>
Var<T> constant_logdet(const Var<T>& value, std::size_t batch) {
  return zero_logdet<T>(batch) + reshape(value, Shape{1});
}

template <typename T>
Var<T> sum_per_sample(const Var<T>& x) {
  std::vector<int> axes;
  for (std::size_t a = 1; a < x.dim(); ++a) axes.push_back(static_cast<int>(a));
  return sum(x, axes, false);
}

template <typename T>
Transformed<T> Chain<T>::forward(const Var<T>& x) {
  Var<T> h = x;
  Var<T> logdet = zero_logdet<T>(x.shape().at(0));
  EncodeObserver<T>* observer = encode_observer<T>();  // flows/encode_observer.hpp; usually null
  if (!observer && GradMode::enabled() && memory_saving_ == MemorySaving::checkpoint)
    return checkpointed_chain_forward(layers_, x);
  if (!observer && GradMode::enabled() && memory_saving_ == MemorySaving::invertible)
    return invertible_chain_forward(layers_, x, stats_);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (observer) observer->enter_layer(i, layers_[i]);
    Transformed<T> step = layers_[i]->forward(h);
    if (observer) observer->leave_layer(i, layers_[i], step);
    h = step.value;
    logdet = logdet + step.logdet;
  }
  return {h, logdet};
}

template <typename T>
void Chain<T>::set_memory_saving(MemorySaving mode) {
  memory_saving_ = mode;
  if (mode == MemorySaving::invertible && !stats_) stats_ = std::make_shared<ReconstructionStats>();
}

template <typename T>
Transformed<T> Chain<T>::inverse(const Var<T>& z) {
  Var<T> h = z;
  Var<T> logdet = zero_logdet<T>(z.shape().at(0));
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    Transformed<T> step = (*it)->inverse(h);
    h = step.value;
    logdet = logdet + step.logdet;
  }
  return {h, logdet};
}

template <typename T>
Shape Chain<T>::forward_shape(const Shape& in) const {
  Shape s = in;
  for (const auto& layer : layers_) s = layer->forward_shape(s);
  return s;
}

template <typename T>
Shape Chain<T>::inverse_shape(const Shape& out) const {
  Shape s = out;
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) s = (*it)->inverse_shape(s);
  return s;
}

template Var<float> zero_logdet<float>(std::size_t);
template Var<double> zero_logdet<double>(std::size_t);
template Var<float> constant_logdet<float>(const Var<float>&, std::size_t);
template Var<double> constant_logdet<double>(const Var<double>&, std::size_t);
template Var<float> sum_per_sample<float>(const Var<float>&);
template Var<double> sum_per_sample<double>(const Var<double>&);
template class Chain<float>;
template class Chain<double>;

}  // namespace fz
