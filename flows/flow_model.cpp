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
void FlowModel<T>::check_labels(const IndexTensor* labels, std::size_t batch) const {
  if (classes_ && !labels)
    throw std::invalid_argument("FlowModel: this model is class-conditional (" + std::to_string(classes_) +
                                " classes): give each sample's label");
  if (!classes_ && labels) throw std::invalid_argument("FlowModel: labels given to a model that is not class-conditional");
  if (labels && (labels->shape.size() != 1 || labels->numel() != batch))
    throw std::invalid_argument("FlowModel: expected " + std::to_string(batch) + " labels, got shape " +
                                shape_str(labels->shape));
}

template <typename T>
GaussianShift<T> FlowModel<T>::shift_of(std::size_t latent, const IndexTensor* labels) {
  if (!labels) return {};
  return class_priors_.at(latent)->shift(*labels);
}

template <typename T>
void FlowModel<T>::make_class_conditional(std::size_t classes) {
  if (classes_) throw std::invalid_argument("FlowModel: already class-conditional");
  if (classes < 2) throw std::invalid_argument("FlowModel: a class-conditional model needs at least 2 classes");
  if (!dynamic_cast<StandardNormal<T>*>(base_.get()) && !dynamic_cast<DiagonalGaussian<T>*>(base_.get()))
    throw std::invalid_argument("FlowModel: class conditioning needs a Gaussian base, not " + base_->type_name());
  // Each latent's shape: the shape rules run forward through every scale, as draw() does.
  Shape s = {1};
  s.insert(s.end(), event_shape_.begin(), event_shape_.end());
  s = preprocess_->forward_shape(s);
  std::size_t split_index = 0;
  for (const Scale& scale : scales_) {
    s = scale.flow->forward_shape(s);
    if (scale.split) {
      s[1] /= 2;
      auto prior = std::make_shared<ClassPrior<T>>(classes, Shape(s.begin() + 1, s.end()));
      this->register_module("class_prior_split" + std::to_string(split_index++), prior);
      class_priors_.push_back(prior);
    }
  }
  auto top = std::make_shared<ClassPrior<T>>(classes, Shape(s.begin() + 1, s.end()));
  this->register_module("class_prior_top", top);
  class_priors_.push_back(top);
  classes_ = classes;
}

template <typename T>
ClassPrior<T>& FlowModel<T>::class_prior(std::size_t latent) {
  if (latent >= class_priors_.size())
    throw std::invalid_argument("FlowModel::class_prior: no class prior " + std::to_string(latent) +
                                (classes_ ? "" : " (the model is not class-conditional)"));
  return *class_priors_[latent];
}

template <typename T>
Encoding<T> FlowModel<T>::encode(const Var<T>& x) {
  return encode_impl(x, nullptr);
}

template <typename T>
Encoding<T> FlowModel<T>::encode(const Var<T>& x, const IndexTensor& labels) {
  return encode_impl(x, &labels);
}

template <typename T>
Encoding<T> FlowModel<T>::encode_impl(const Var<T>& x, const IndexTensor* labels) {
  check_input(x.shape());
  check_labels(labels, x.shape()[0]);
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
      SplitOutput<T> out = scale.split->forward(h, shift_of(enc.latents.size(), labels));
      if (observer) observer->on_split(s, scale.split, out);
      enc.latents.push_back(out.z);
      latent_lp = latent_lp.defined() ? latent_lp + out.log_prob : out.log_prob;
      h = out.kept;
    }
  }
  enc.latents.push_back(h);
  Var<T> top = labels ? base_->shifted_log_prob(h, shift_of(enc.latents.size() - 1, labels)) : base_->log_prob(h);
  if (observer) observer->on_top(*base_, h, top);
  enc.latent_log_prob = latent_lp.defined() ? latent_lp + top : top;
  return enc;
}

template <typename T>
Tensor<T> FlowModel<T>::class_log_probs(const Var<T>& x) {
  check_input(x.shape());
  if (!classes_) throw std::invalid_argument("FlowModel::class_log_probs: the model is not class-conditional");
  NoGradGuard no_grad;
  const std::size_t b = x.shape()[0];
  Transformed<T> pre = preprocess_->forward(x);
  Var<T> h = pre.value;
  Tensor<T> logdet = pre.logdet.value();
  std::vector<std::pair<Var<T>, Var<T>>> factored;  // (kept, z) of each split
  for (const Scale& scale : scales_) {
    Transformed<T> step = scale.flow->forward(h);
    h = step.value;
    logdet = add(logdet, step.logdet.value());
    if (scale.split) {
      SplitOutput<T> out = scale.split->forward(h);
      factored.emplace_back(out.kept, out.z);
      h = out.kept;
    }
  }
  Tensor<T> out({b, classes_});
  for (std::size_t k = 0; k < classes_; ++k) {
    const IndexTensor labels = repeated_class(k, b);
    Tensor<T> lp = add(logdet, base_->shifted_log_prob(h, shift_of(factored.size(), &labels)).value());
    std::size_t i = 0;
    for (std::size_t s = 0; s < scales_.size(); ++s) {
      if (!scales_[s].split) continue;
      lp = add(lp, scales_[s].split->log_prob(factored[i].first, factored[i].second, shift_of(i, &labels)).value());
      ++i;
    }
    for (std::size_t r = 0; r < b; ++r) out[r * classes_ + k] = lp[r];
  }
  return out;
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
std::pair<Tensor<T>, Tensor<T>> FlowModel<T>::draw(std::size_t n, T temperature, Rng& rng,
                                                   const IndexTensor* labels) {
  check_labels(labels, n);
  NoGradGuard no_grad;
  // Shape of the top latent: run the shape rules forward through every scale.
  Shape s = {n};
  s.insert(s.end(), event_shape_.begin(), event_shape_.end());
  s = preprocess_->forward_shape(s);
  for (const Scale& scale : scales_) {
    s = scale.flow->forward_shape(s);
    if (scale.split) s[1] /= 2;
  }
  std::size_t latent = class_priors_.size();  // the top latent's index when conditional
  GaussianShift<T> top_shift = labels ? shift_of(--latent, labels) : GaussianShift<T>{};
  Var<T> h(labels ? base_->shifted_sample(top_shift, temperature, rng) : base_->sample(s, temperature, rng));
  Tensor<T> latent_lp = (labels ? base_->shifted_log_prob(h, top_shift) : base_->log_prob(h)).value();
  Tensor<T> logdet({n}, T(0));
  for (std::size_t i = scales_.size(); i-- > 0;) {
    if (scales_[i].split) {
      const GaussianShift<T> shift = labels ? shift_of(--latent, labels) : GaussianShift<T>{};
      Var<T> z(scales_[i].split->sample_z(h, temperature, rng, shift));
      latent_lp = add(latent_lp, scales_[i].split->log_prob(h, z, shift).value());
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
Tensor<T> FlowModel<T>::sample(const IndexTensor& labels, T temperature, Rng& rng) {
  return draw(labels.numel(), temperature, rng, &labels).first;
}

template <typename T>
std::pair<Tensor<T>, Tensor<T>> FlowModel<T>::sample_with_log_prob(const IndexTensor& labels, Rng& rng) {
  return draw(labels.numel(), T(1), rng, &labels);
}

template <typename T>
std::pair<Var<T>, Var<T>> FlowModel<T>::rsample_with_log_prob(std::size_t n, Rng& rng) {
  if (classes_) throw std::invalid_argument("FlowModel::rsample_with_log_prob: not for class-conditional models");
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
