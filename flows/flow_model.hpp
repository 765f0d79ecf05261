// flows/flow_model.hpp — a complete normalizing flow: preprocessing bijectors, one or more
// scales (a chain of bijectors, then — except for the last scale — a Split that factors out
// half of the channels), and a base distribution for the final latent.
//
//   x (continuous data) --preprocess--> --scale 0 flow--> split --> ... --last flow--> z_top
//   log p(x) = sum of every log|det J|  +  sum over splits of log p(z_i | kept_i)  +  log p_base(z_top)
//
// A single-scale model (NICE, the 2-D toy flows) is just one scale with no split.
//
// Class-conditional (make_class_conditional, flows/class_prior.hpp): every split prior and the
// top prior get a learned per-class mean and log-sd; then log_prob, encode and sample take
// labels ((B,) IndexTensor) and the label-free calls throw (there is no p(x) to give without
// summing over the classes: flows/class_scores.hpp does that). decode needs no labels.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bijector.hpp"
#include "class_prior.hpp"
#include "distributions/distribution.hpp"
#include "split.hpp"

namespace fz {

template <typename T>
struct Encoding {
  std::vector<Var<T>> latents;  // each split's z in order, then the top latent
  Var<T> logdet;                // (B,): every bijector's log|det J|, preprocessing included
  Var<T> latent_log_prob;       // (B,): split priors plus the base distribution
  Var<T> log_prob() const;      // logdet + latent_log_prob: log p(x) in nats per sample
};

template <typename T>
class VariationalDequantizer;  // flows/variational_dequantizer.hpp

template <typename T>
class FlowModel : public Module<T> {
 public:
  struct Scale {
    std::shared_ptr<Chain<T>> flow;
    std::shared_ptr<Split<T>> split;  // null on the last scale
  };

  // event_shape: one sample's shape, e.g. {1, 28, 28} or {2}. `preprocess` may be empty.
  FlowModel(Shape event_shape, std::shared_ptr<Chain<T>> preprocess, std::vector<Scale> scales,
            std::shared_ptr<Distribution<T>> base);
  std::string type_name() const override { return "FlowModel"; }

  // x: (B, event...) continuous data.
  Encoding<T> encode(const Var<T>& x);
  // log p(x) in nats, shape (B,).
  Var<T> log_prob(const Var<T>& x) { return encode(x).log_prob(); }
  // Class-conditional models: the same given each sample's label, log p(x | y).
  Encoding<T> encode(const Var<T>& x, const IndexTensor& labels);
  Var<T> log_prob(const Var<T>& x, const IndexTensor& labels) { return encode(x, labels).log_prob(); }
  // log p(x | k) for every class k, shape (B, classes), no gradients: the bijectors run once and
  // only the priors are evaluated per class (each column equals log_prob(x, k)).
  Tensor<T> class_log_probs(const Var<T>& x);
  // Latents (as encode returns them) back to data; logdet is log|det dx/dlatents|.
  Transformed<T> decode(const std::vector<Var<T>>& latents);
  // n samples at temperature tau (no gradients recorded).
  Tensor<T> sample(std::size_t n, T temperature, Rng& rng);
  // n samples at temperature 1 together with the log-density the sampler drew them from,
  // log p(x) = log p(latents) - log|det dx/dlatents| (tests compare it with log_prob(x)).
  std::pair<Tensor<T>, Tensor<T>> sample_with_log_prob(std::size_t n, Rng& rng);
  // The same, reparametrised and recorded on the tape: x = T(z) for z drawn from the base, and
  // log q(x) = log p_base(z) - log|det dx/dz|, both differentiable with respect to the
  // bijectors' parameters (what the reverse KL needs: flows/reverse_kl.hpp). z itself is a
  // constant draw, so this is for single-scale flows whose base has no parameters (the 2-D
  // presets, planar and radial stacks); throws std::invalid_argument for others.
  std::pair<Var<T>, Var<T>> rsample_with_log_prob(std::size_t n, Rng& rng);
  // Class-conditional models: one sample per label (n = labels.numel()), each latent drawn
  // from its class's prior; and the same with log p(x | y).
  Tensor<T> sample(const IndexTensor& labels, T temperature, Rng& rng);
  std::pair<Tensor<T>, Tensor<T>> sample_with_log_prob(const IndexTensor& labels, Rng& rng);

  // Adds a ClassPrior for every split latent and the top latent (modules "class_prior_split<i>"
  // and "class_prior_top", zero-initialised: the model's densities do not change until they
  // learn). Needs a Gaussian base (standard normal or learned diagonal) and classes >= 2; once.
  void make_class_conditional(std::size_t classes);
  // 0 for an unconditional model.
  std::size_t classes() const { return classes_; }
  // latent i in encode's order (each split's z, then the top): its class prior.
  ClassPrior<T>& class_prior(std::size_t latent);

  const Shape& event_shape() const { return event_shape_; }
  // Number of data dimensions D (product of the event shape).
  std::size_t dims() const { return shape_numel(event_shape_); }
  const Chain<T>& preprocess() const { return *preprocess_; }
  const std::vector<Scale>& scales() const { return scales_; }
  Distribution<T>& base() { return *base_; }

  // Variational dequantization (flows/variational_dequantizer.hpp): a learned q(u | x) for the
  // noise that turns pixels into this model's continuous input. Registered as the child
  // "dequantizer" after every other module, so the flow's own parameters keep their order
  // (and optimiser/EMA indices); it is then trained, averaged, snapshotted and checkpointed
  // with them. log_prob is still the density of the continuous input; the Trainer uses the
  // dequantizer for the bound (flows/trainer.hpp). Null (the default) = uniform dequantization.
  // Throws std::logic_error when one is already set.
  void set_dequantizer(std::shared_ptr<VariationalDequantizer<T>> dequantizer);
  VariationalDequantizer<T>* dequantizer() const { return dequantizer_.get(); }

 private:
  void check_input(const Shape& shape) const;
  // Checks that labels are given exactly when the model is conditional (and fit the batch).
  void check_labels(const IndexTensor* labels, std::size_t batch) const;
  // Each latent's class shift (none when labels is null).
  GaussianShift<T> shift_of(std::size_t latent, const IndexTensor* labels);
  Encoding<T> encode_impl(const Var<T>& x, const IndexTensor* labels);
  // Draws the latents for n samples at temperature tau, decoding as it goes (splits condition
  // on the kept half); returns the data sample and the latents' total log-density.
  std::pair<Tensor<T>, Tensor<T>> draw(std::size_t n, T temperature, Rng& rng, const IndexTensor* labels = nullptr);

  Shape event_shape_;
  std::shared_ptr<Chain<T>> preprocess_;
  std::vector<Scale> scales_;
  std::shared_ptr<Distribution<T>> base_;
  std::size_t classes_ = 0;
  std::vector<std::shared_ptr<ClassPrior<T>>> class_priors_;  // one per latent, encode's order
  std::shared_ptr<VariationalDequantizer<T>> dequantizer_;
};

extern template class FlowModel<float>;
extern template class FlowModel<double>;

}  // namespace fz
