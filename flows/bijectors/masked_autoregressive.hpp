// flows/bijectors/masked_autoregressive.hpp — autoregressive flow layers on vectors (B, D):
// a MADE conditioner (flows/conditioners/made.hpp) and any elementwise Transformer
// (flows/transformers/transformer.hpp: affine now, splines later).
//
// Both layers are built from two maps, where u -> v = tau(u; MADE(u)) is the "direct" map:
//   direct(u):    one pass. params = MADE(u); v = tau(u; params). Because MADE's parameters for
//                 dimension i see only the dimensions before i in the order, v_i depends on
//                 u_i and on earlier u's: the Jacobian is triangular in the order and
//                 log|det| = sum_i log tau'(u_i).
//   solve(v):     the inverse of direct, D passes. Pass k computes params = MADE(u_k) and
//                 u' = tau^{-1}(v; params); the dimensions at positions 0..k of the order are
//                 then exact (their parameters only read positions < k, already exact), and
//                 u_{k+1} keeps those and zeroes the rest (so values computed from
//                 not-yet-known inputs cannot grow over the passes). After the last pass every
//                 dimension is exact, and so are the log-derivatives returned with it. The
//                 composition computes the inverse as a function of v, so gradients taken
//                 through the D passes are its exact gradients.
// Direction (flows/bijector.hpp: forward = data -> latent):
//   MaskedAutoregressiveFlow (MAF, Papamakarios et al. 2017): forward = direct (density in one
//     pass), inverse = solve (sampling in D passes). MADE conditions on the data x.
//   InverseAutoregressiveFlow (IAF, Kingma et al. 2016): forward = solve (density in D passes),
//     inverse = direct (sampling in one pass: x = tau(z; MADE(z))). MADE conditions on z.
// Between layers, reverse or permute the features (Reverse / Permutation in
// flows/bijectors/permutation.hpp): each layer's order is fixed, and the next layer should see
// the dimensions in a different order. make_maf builds such a stack.
//
// Children: "made" (the conditioner) and "transformer" (its parameters, if any).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../bijector.hpp"
#include "../conditioners/made.hpp"
#include "../transformers/transformer.hpp"
#include "../../tensor/random.hpp"

namespace fz {

// What MAF and IAF share: the conditioner, the transformer and the two maps above.
template <typename T>
class AutoregressiveLayer : public Bijector<T> {
 public:
  // Throws std::invalid_argument if the MADE's parameters per dimension differ from the
  // transformer's parameters_per_element(), or if a parameter the transformer reads for
  // dimension j (its param_channel) comes from a MADE output without j's degree (build the
  // MADE with the transformer's param_channel as its layout: made_for_transformer does both).
  AutoregressiveLayer(std::shared_ptr<MADE<T>> made, std::shared_ptr<Transformer<T>> transformer);

  // The layer's order: order()[0] is the dimension that depends on nothing.
  std::vector<std::size_t> order() const { return made_->order(); }
  MADE<T>& made() { return *made_; }
  Transformer<T>& transformer() { return *transformer_; }

 protected:
  Transformed<T> direct(const Var<T>& u);
  Transformed<T> solve(const Var<T>& v);

 private:
  void check_input(const Var<T>& x) const;
  // Per-sample sum of the transformer's log-derivatives (0 without ops if volume-preserving).
  Var<T> logdet_of(const Var<T>& log_derivative) const;

  std::shared_ptr<MADE<T>> made_;
  std::shared_ptr<Transformer<T>> transformer_;
};

template <typename T>
class MaskedAutoregressiveFlow : public AutoregressiveLayer<T> {
 public:
  using AutoregressiveLayer<T>::AutoregressiveLayer;
  std::string type_name() const override { return "MaskedAutoregressiveFlow"; }
  Transformed<T> forward(const Var<T>& x) override { return this->direct(x); }
  Transformed<T> inverse(const Var<T>& z) override { return this->solve(z); }
};

template <typename T>
class InverseAutoregressiveFlow : public AutoregressiveLayer<T> {
 public:
  using AutoregressiveLayer<T>::AutoregressiveLayer;
  std::string type_name() const override { return "InverseAutoregressiveFlow"; }
  Transformed<T> forward(const Var<T>& x) override { return this->solve(x); }
  Transformed<T> inverse(const Var<T>& z) override { return this->direct(z); }
};

// A MADE whose output layout and parameter count are the transformer's
// (config.params_per_dim is overwritten with transformer.parameters_per_element()).
template <typename T>
std::shared_ptr<MADE<T>> made_for_transformer(MadeConfig config, const std::vector<std::size_t>& order,
                                              std::shared_ptr<Transformer<T>> transformer, Rng& rng);

// Makes a fresh transformer for each layer of a stack.
template <typename T>
using TransformerFactory = std::function<std::shared_ptr<Transformer<T>>()>;

// A stack of `layers` MAF layers on `features` dimensions, each with a MADE of n_hidden hidden
// layers of width `hidden` (natural order, last map zero-initialised so the stack starts as
// the identity for transformers that are the identity at zero parameters, like affine) and a
// Reverse between consecutive layers:  MAF, Reverse, MAF, Reverse, ..., MAF.
template <typename T>
std::shared_ptr<Chain<T>> make_maf(std::size_t features, std::size_t layers, std::size_t hidden,
                                   std::size_t n_hidden, const TransformerFactory<T>& transformer,
                                   Rng& rng, bool residual = false);

extern template class AutoregressiveLayer<float>;
extern template class AutoregressiveLayer<double>;
extern template class MaskedAutoregressiveFlow<float>;
extern template class MaskedAutoregressiveFlow<double>;
extern template class InverseAutoregressiveFlow<float>;
extern template class InverseAutoregressiveFlow<double>;

}  // namespace fz
