// flows/flow_model.cpp — encode (data -> latents, log p), decode and sampling for multi-scale flows.
#include "flows/flow_model.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "flows/encode_observer.hpp"
#include "flows/variational_dequantizer.hpp"
#include "tensor/elementwise.hpp"

namespace fz {

template <typename T>
Var<T> Encoding<T>::log_prob() const {
  return logdet + latent_log_prob;
}

template <typename T>
FlowModel<T>::FlowModel(Shape event_shape, std::shared_ptr<Chain<T>> preprocess,
                        std::vector<Scale> scales, std::shared_ptr<Distribution<T>> base)
    : event_shape_(std::move(event_shape)), scales_(std::move(scales)), base_(std::move(base)) {
  if (scales_.empty()) throw std::invalid_argument("FlowModel: needs at least one scale");
  preprocess_ = this->register_module("preprocess", preprocess ? preprocess : std::make_shared<Chain<T>>());
  for (std::size_t i = 0; i < scales_.size(); ++i) {
    if (!scales_[i].flow) throw std::invalid_argument("FlowModel: scale " + std::to_string(i) + " has no flow");
    if (scales_[i].split && i + 1 == scales_.size())
      throw std::invalid_argument("FlowModel: the last scale cannot split");
    if (!scales_[i].split && i + 1 < scales_.size())
      throw std::invalid_argument("FlowModel: scale " + std::to_string(i) + " needs a split");
    this->register_module("scale" + std::to_string(i), scales_[i].flow);
    if (scales_[i].split) this->register_module("split" + std::to_string(i), scales_[i].split);
  }
  this->register_module("base", base_);
}

template <typename T>
void FlowModel<T>::set_dequantizer(std::shared_ptr<VariationalDequantizer<T>> dequantizer) {
  if (dequantizer_) throw std::logic_error("FlowModel: a dequantizer is already set");
  if (!dequantizer) throw std::invalid_argument("FlowModel: null dequantizer");
  if (dequantizer->image_shape() != event_shape_)
    throw std::invalid_argument("FlowModel: the dequantizer is for images of shape " +
                                shape_str(dequantizer->image_shape()) + ", the model's are " + shape_str(event_shape_));
  dequantizer_ = this->register_module("dequantizer", std::move(dequantizer));
}

template <typename T>
void FlowModel<T>::check_input(const Shape& shape) const {
  Shape expected_event(shape.begin() + (shape.empty() ? 0 : 1), shape.end());
  if (shape.empty() || expected_event != event_shape_)
    throw std::invalid_argument("FlowModel: expected a batch of shape (B, " +
                                shape_str(event_shape_).substr(1) + ", got " + shape_str(shape));
}

template <typename T>
Encoding<T> FlowModel<T>::encode(const Var<T>& x) {
  check_input(x.shape());
  EncodeObserver<T>* observer = encode_observer<T>();  // flows/encode_observer.hpp; usually null
  Encoding<T> enc;
  if (observer) observer->enter_stage("preprocess", 0);
  Transformed<T> pre = preprocess_->forward(x);
  if (observer) observer->leave_stage();
  Var<T> h = pre.value;
  enc.logdet = pre.logdet;
  Var<T> latent_lp;
  for (std::size_t s = 0; s < scales_.size(); ++s) {
    const Scale& scale = scales_[s];
    if (observer) observer->enter_stage("scale" + std::to_string(s), s);
    Transformed<T> step = scale.flow->forward(h);
    if (observer) observer->leave_stage();
    h = step.value;
    enc.logdet = enc.logdet + step.logdet;
    if (scale.split) {
      SplitOutput<T> out = scale.split->forward(h);
      if (observer) observer->on_split(s, scale.split, out);
      enc.latents.push_back(out.z);
      latent_lp = latent_lp.defined() ? latent_lp + out.log_prob : out.log_prob;
      h = out.kept;
    }
  }
  enc.latents.push_back(h);
  Var<T> top = base_->log_prob(h);
  if (observer) observer->on_top(*base_, h, top);
  enc.latent_log_prob = latent_lp.defined() ? latent_lp + top : top;
  return enc;
}

template <typename T>
Transformed<T> FlowModel<T>::decode(const std::vector<Var<T>>& latents) {
  std::size_t n_splits = 0;
  for (const Scale& s : scales_) n_splits += s.split ? 1 : 0;
  if (latents.size() != n_splits + 1)
    throw std::invalid_argument("FlowModel::decode: expected " + std::to_string(n_splits + 1) +
                                " latents, got " + std::to_string(latents.size()));
  Var<T> h = latents.back();
  Var<T> logdet = zero_logdet<T>(h.shape().at(0));
  std::size_t next_latent = n_splits;
  for (std::size_t i = scales_.size(); i-- > 0;) {
    if (scales_[i].split) h = scales_[i].split->inverse(h, latents[--next_latent]);
    Transformed<T> step = scales_[i].flow->inverse(h);
    h = step.value;
    logdet = logdet + step.logdet;
  }
  Transformed<T> pre = preprocess_->inverse(h);
  return {pre.value, logdet + pre.logdet};
}

template <typename T>
std::pair<Tensor<T>, Tensor<T>> FlowModel<T>::draw(std::size_t n, T temperature, Rng& rng) {
  NoGradGuard no_grad;
  // Shape of the top latent: run the shape rules forward through every scale.
  Shape s = {n};
  s.insert(s.end(), event_shape_.begin(), event_shape_.end());
  s = preprocess_->forward_shape(s);
  for (const Scale& scale : scales_) {
    s = scale.flow->forward_shape(s);
    if (scale.split) s[1] /= 2;
  }
  Var<T> h(base_->sample(s, temperature, rng));
  Tensor<T> latent_lp = base_->log_prob(h).value();
  Tensor<T> logdet({n}, T(0));
  for (std::size_t i = scales_.size(); i-- > 0;) {
    if (scales_[i].split) {
      Var<T> z(scales_[i].split->sample_z(h, temperature, rng));
      latent_lp = add(latent_lp, scales_[i].split->log_prob(h, z).value());
      h = scales_[i].split->inverse(h, z);
    }
    Transformed<T> step = scales_[i].flow->inverse(h);
    h = step.value;
    logdet = add(logdet, step.logdet.value());
  }
  Transformed<T> pre = preprocess_->inverse(h);
  logdet = add(logdet, pre.logdet.value());
  return {pre.value.value(), sub(latent_lp, logdet)};
}

template <typename T>
Tensor<T> FlowModel<T>::sample(std::size_t n, T temperature, Rng& rng) {
  return draw(n, temperature, rng).first;
}

template <typename T>
std::pair<Tensor<T>, Tensor<T>> FlowModel<T>::sample_with_log_prob(std::size_t n, Rng& rng) {
  return draw(n, T(1), rng);
}

template <typename T>
std::pair<Var<T>, Var<T>> FlowModel<T>::rsample_with_log_prob(std::size_t n, Rng& rng) {
  if (scales_.size() != 1 || !base_->parameters().empty())
    throw std::invalid_argument("FlowModel::rsample_with_log_prob: needs a single-scale flow with a parameter-free "
                                "base distribution (its latent draw is not reparametrised)");
  Shape s = {n};
  s.insert(s.end(), event_shape_.begin(), event_shape_.end());
  s = scales_[0].flow->forward_shape(preprocess_->forward_shape(s));
  const Var<T> z(base_->sample(s, T(1), rng));
  const Transformed<T> step = scales_[0].flow->inverse(z);
  const Transformed<T> pre = preprocess_->inverse(step.value);
  return {pre.value, base_->log_prob(z) - step.logdet - pre.logdet};
}

template struct Encoding<float>;
template struct Encoding<double>;
template class FlowModel<float>;
template class FlowModel<double>;

}  // namespace fz
