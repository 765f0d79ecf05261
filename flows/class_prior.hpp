// flows/class_prior.hpp — class-conditional priors: one learned mean and log-sd per class over
// one latent's shape (an embedding: row k of each parameter is class k's), looked up per sample
// and added to the mean / log-sd the prior already has (flows/distributions: GaussianShift).
//
//   log p(z | y) = log N(z; mean_prior + mean[y], exp(log_sd_prior + log_sd[y])^2)
//
// A FlowModel made class-conditional (FlowModel::make_class_conditional) keeps one ClassPrior
// per split latent and one for the top latent; a Glow split's mean and log-sd, computed from the
// kept half, get the class's rows as a bias. Both parameters start at zero, so at
// initialisation the conditional model is exactly the unconditional one.
//
// Labels are an IndexTensor of shape (B,) (autograd/ops_index.hpp), each in [0, classes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../autograd/nn/module.hpp"
#include "../autograd/ops_index.hpp"
#include "distributions/distribution.hpp"

namespace fz {

// Labels as a (B,) IndexTensor; throws std::invalid_argument naming the first label outside
// [0, classes) (an unlabelled -1, or a class the model does not have).
IndexTensor class_labels(const std::vector<std::int32_t>& labels, std::size_t classes);
// n copies of class k, shape (n,).
IndexTensor repeated_class(std::size_t k, std::size_t n);

template <typename T>
class ClassPrior : public Module<T> {
 public:
  // latent_shape: one sample's latent, e.g. (C, H, W); classes >= 2.
  ClassPrior(std::size_t classes, Shape latent_shape);
  std::string type_name() const override { return "ClassPrior"; }

  // Each sample's class rows: mean and log_sd of shape (B, latent...), differentiable in the
  // embeddings (a gather along the class axis).
  GaussianShift<T> shift(const IndexTensor& labels);

  std::size_t classes() const { return classes_; }
  const Shape& latent_shape() const { return latent_shape_; }
  // The embeddings, (classes, latent...).
  Var<T>& mean() { return mean_; }
  Var<T>& log_sd() { return log_sd_; }

 private:
  std::size_t classes_;
  Shape latent_shape_;
  Var<T> mean_, log_sd_;
};

extern template class ClassPrior<float>;
extern template class ClassPrior<double>;

}  // namespace fz
