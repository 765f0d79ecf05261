// flows/bijectors/coupling.cpp — Coupling = Partition + conditioner + Transformer.
#include "flows/bijectors/coupling.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"

namespace fz {

template <typename T>
Coupling<T>::Coupling(std::size_t channels, Partition partition, std::shared_ptr<Layer<T>> net,
                      std::shared_ptr<Transformer<T>> transformer)
    : channels_(channels), transformed_(partition.transformed_channels(channels)), partition_(partition) {
  if (!net) throw std::invalid_argument("Coupling: null conditioner network");
  if (!transformer) throw std::invalid_argument("Coupling: null transformer");
  if (channels == 0 || (!partition.is_masked() && channels % 2 != 0))
    throw std::invalid_argument("Coupling: " + partition.name() + " needs an even, positive number of channels, got " +
                                std::to_string(channels));
  if (!transformer->children().empty() || !transformer->named_buffers().empty())
    throw std::invalid_argument("Coupling: the transformer " + transformer->type_name() +
                                " has child modules or buffers; a transformer may only own parameters");
  // The transformer's parameters first: a Module lists its own entries before its children's,
  // which is the order (and the names, "scale" then "net.*") the per-family classes had.
  for (const auto& [name, parameter] : transformer->named_parameters()) this->register_parameter(name, parameter);
  net_ = this->register_module("net", std::move(net));
  transformer_ = std::move(transformer);
  fused_ = dynamic_cast<FusedSplitCoupling<T>*>(transformer_.get());
  if (fused_ && !fused_->fuses(partition_)) fused_ = nullptr;
}

template <typename T>
Var<T> Coupling<T>::conditioner_params(const Var<T>& cond, const char* who) const {
  Var<T> params = net_->forward(cond);
  const std::size_t want = transformer_->parameters_per_element() * transformed_;
  if (params.dim() < 2 || params.shape()[1] != want)
    throw std::invalid_argument(std::string(who) + ": the net must output " + std::to_string(want) + " channels (" +
                                std::to_string(transformer_->parameters_per_element()) + " per transformed channel), got " +
                                shape_str(params.shape()));
  return params;
}

template <typename T>
Var<T> Coupling<T>::logdet_of(const Elementwise<T>& e, std::size_t batch, const Tensor<T>* keep) const {
  if (transformer_->volume_preserving()) return zero_logdet<T>(batch);
  return sum_per_sample(keep ? e.log_derivative * Var<T>(*keep) : e.log_derivative);
}

template <typename T>
Transformed<T> Coupling<T>::apply(const Var<T>& x, bool forward, const char* who) {
  partition_.check_shape(x.shape(), who);
  if (x.shape()[1] != channels_)
    throw std::invalid_argument(std::string(who) + ": built for " + std::to_string(channels_) +
                                " channels, got input " + shape_str(x.shape()));
  const std::size_t batch = x.shape()[0];
  if (partition_.is_masked()) {
    const Tensor<T> m = partition_.mask<T>(x.shape()[2], x.shape()[3]);
    const Var<T> params = conditioner_params(partition_.masked_conditioner_input(x, m), who);
    const Elementwise<T> e = forward ? transformer_->forward(x, params) : transformer_->inverse(x, params);
    const Tensor<T> keep_out = add_scalar(mul_scalar(m, T(-1)), T(1));  // 1 - mask
    return {keep_masked(x, e.value, m), logdet_of(e, batch, &keep_out)};
  }
  if (forward && fused_)  // one gather, the net and the fused ops
    return fused_->fused_coupling_forward(x, conditioner_params(partition_.conditioning_part(x), who), partition_);
  auto [a, b] = partition_.split(x);
  const Var<T> params = conditioner_params(a, who);
  const Elementwise<T> e = forward ? transformer_->forward(b, params) : transformer_->inverse(b, params);
  return {partition_.merge(a, e.value), logdet_of(e, batch, nullptr)};
}

template <typename T>
Transformed<T> Coupling<T>::forward(const Var<T>& x) {
  return apply(x, true, "Coupling::forward");
}

template <typename T>
Transformed<T> Coupling<T>::inverse(const Var<T>& y) {
  return apply(y, false, "Coupling::inverse");
}

#define FZ_INSTANTIATE(T) \
  template class Coupling<T>;
FZ_INSTANTIATE(float)
FZ_INSTANTIATE(double)
#undef FZ_INSTANTIATE

}  // namespace fz
