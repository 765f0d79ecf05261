// autograd/nn/linear.hpp — Linear: a fully connected layer y = x W^T + b, W shaped
// (out, in) as in PyTorch; x may have any leading axes (..., in) -> (..., out). The one
// linear layer of the project: the MLP conditioner (flows/conditioners/mlp.hpp) is a stack of
// them and MADE (flows/conditioners/made.hpp) masks their weights.
//
// Parameters: "weight" (out, in) and, with bias, "bias" (out). Initialisation:
//   Default  PyTorch's nn.Linear: W ~ U(+-1/sqrt(in)) (= kaiming_uniform(a = sqrt(5))), then
//            b ~ U(+-1/sqrt(in)), drawn in that order from the Rng
//   Zeros    W = 0, b = 0, no draws (the last layer of a coupling network, so the flow starts
//            at the identity)
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "module.hpp"
#include "../../tensor/random.hpp"

namespace fz {

enum class LinearInit { Default, Zeros };

template <typename T>
class Linear : public Layer<T> {
 public:
  // Throws std::invalid_argument if in_features or out_features is 0.
  Linear(std::size_t in_features, std::size_t out_features, Rng& rng, bool bias = true,
         LinearInit init = LinearInit::Default);

  std::string type_name() const override { return "Linear"; }
  Var<T> forward(const Var<T>& x) override;
  // relu(forward(x)) as the fused op linear_relu (one tape node, no separate ReLU pass):
  // the hidden layers of an MLP.
  Var<T> forward_relu(const Var<T>& x);
  // The same computation with the given parameters in place of the module's own, in the
  // order of parameters() (weight, then bias if any). forward(x) == forward_with(x,
  // parameters()). Lets gradcheck differentiate with respect to the parameters.
  Var<T> forward_with(const Var<T>& x, const std::vector<Var<T>>& params) const;

  std::size_t in_features() const { return in_; }
  std::size_t out_features() const { return out_; }
  const Var<T>& weight() const { return weight_; }
  // Undefined when the layer has no bias.
  const Var<T>& bias() const { return bias_; }

 private:
  void check_input(const Var<T>& x) const;

  std::size_t in_, out_;
  Var<T> weight_, bias_;
};

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace fz
