// flows/conditioners/mlp.hpp — the fully connected conditioner network of NICE and of the 2-D
// RealNVP toy:  in -> hidden -> ReLU -> (hidden -> hidden -> ReLU) x (n_hidden - 1) -> out.
// n_hidden counts hidden layers, so there are n_hidden + 1 Linear maps:
//   nice-fmnist: MLP(392, 1000, 5, 392)  (6 Linear maps, 4,789,392 parameters)
//   toy-realnvp: MLP(1, 64, 2, 2)        (1 -> 64 -> 64 -> 2, 4,418 parameters)
// Initialisation is PyTorch's nn.Linear default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
// zero_init_last sets the last weight and bias to 0, so the coupling starts as the identity.
// Parameters: "weight0", "bias0", ..., "weight<n_hidden>", "bias<n_hidden>" (weight (out, in)).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

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

 private:
  std::size_t in_, out_;
  std::vector<Var<T>> weights_, biases_;
};

extern template class MLP<float>;
extern template class MLP<double>;

}  // namespace fz
