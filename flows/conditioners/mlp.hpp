// flows/conditioners/mlp.hpp — the fully connected conditioner network of NICE and of the 2-D
// RealNVP toy:  in -> hidden -> ReLU -> (hidden -> hidden -> ReLU) x (n_hidden - 1) -> out.
// n_hidden counts hidden layers, so there are n_hidden + 1 Linear maps:
//   nice-fmnist: MLP(392, 1000, 5, 392)  (6 Linear maps, 4,789,392 parameters)
//   toy-realnvp: MLP(1, 64, 2, 2)        (1 -> 64 -> 64 -> 2, 4,418 parameters)
// Each map is a Linear (autograd/nn/linear.hpp) with its default initialisation (PyTorch's
// nn.Linear: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in))); zero_init_last makes the last one
// LinearInit::Zeros, so the coupling starts as the identity (and the spline's derivative
// entries then come from Transformer::identity_parameters, see coupling_factories.cpp).
// Parameters: "weight0", "bias0", ..., "weight<n_hidden>", "bias<n_hidden>" (weight (out, in)):
// the Linear maps are not registered as children, their parameters are registered flat under
// these names, the ones every checkpoint has used.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../../autograd/nn/linear.hpp"
#include "../../autograd/nn/module.hpp"
#include "../../tensor/random.hpp"

namespace fz {

template <typename T>
class MLP : public Layer<T> {
 public:
  MLP(std::size_t in_features, std::size_t hidden, std::size_t n_hidden, std::size_t out_features,
      Rng& rng, bool zero_init_last = false);
  std::string type_name() const override { return "MLP"; }
  // x: (B, in_features) -> (B, out_features).
  Var<T> forward(const Var<T>& x) override;

  std::size_t in_features() const { return in_; }
  std::size_t out_features() const { return out_; }
  // The maps in application order (the last one is the output layer).
  const std::vector<std::shared_ptr<Linear<T>>>& layers() const { return layers_; }

 private:
  std::size_t in_, out_;
  std::vector<std::shared_ptr<Linear<T>>> layers_;
};

extern template class MLP<float>;
extern template class MLP<double>;

}  // namespace fz
