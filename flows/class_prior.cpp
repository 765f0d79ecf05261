// flows/class_prior.cpp — the per-class mean / log-sd embeddings and their lookup.
#include "flows/class_prior.hpp"

#include <stdexcept>

namespace fz {

IndexTensor class_labels(const std::vector<std::int32_t>& labels, std::size_t classes) {
  IndexTensor out{{labels.size()}, {}};
  out.values.reserve(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= classes)
      throw std::invalid_argument("class label " + std::to_string(labels[i]) + " of example " + std::to_string(i) +
                                  " is not in [0, " + std::to_string(classes) + ")" +
                                  (labels[i] < 0 ? " (an unlabelled image?)" : ""));
    out.values.push_back(static_cast<std::size_t>(labels[i]));
  }
  return out;
}

IndexTensor repeated_class(std::size_t k, std::size_t n) { return IndexTensor{{n}, std::vector<std::size_t>(n, k)}; }

template <typename T>
ClassPrior<T>::ClassPrior(std::size_t classes, Shape latent_shape)
    : classes_(classes), latent_shape_(std::move(latent_shape)) {
  if (classes < 2) throw std::invalid_argument("ClassPrior: needs at least 2 classes, got " + std::to_string(classes));
  Shape full = {classes};
  full.insert(full.end(), latent_shape_.begin(), latent_shape_.end());
  // Zero: every class starts at the unconditional prior.
  mean_ = this->register_parameter("mean", Tensor<T>(full));
  log_sd_ = this->register_parameter("log_sd", Tensor<T>(full));
}

template <typename T>
GaussianShift<T> ClassPrior<T>::shift(const IndexTensor& labels) {
  if (labels.shape.size() != 1)
    throw std::invalid_argument("ClassPrior: labels must have shape (B,), got " + shape_str(labels.shape));
  const std::size_t b = labels.numel(), per = shape_numel(latent_shape_);
  // gather along axis 0 needs one index per output element: label[i] repeated over the latent.
  IndexTensor index{{b}, {}};
  index.shape.insert(index.shape.end(), latent_shape_.begin(), latent_shape_.end());
  index.values.reserve(b * per);
  for (std::size_t i = 0; i < b; ++i) {
    if (labels[i] >= classes_)
      throw std::invalid_argument("ClassPrior: label " + std::to_string(labels[i]) + " is not in [0, " +
                                  std::to_string(classes_) + ")");
    index.values.insert(index.values.end(), per, labels[i]);
  }
  return {gather(mean_, 0, index), gather(log_sd_, 0, index)};
}

template class ClassPrior<float>;
template class ClassPrior<double>;

}  // namespace fz
