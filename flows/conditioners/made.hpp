// flows/conditioners/made.hpp — MADE (Germain et al. 2015, "Masked Autoencoder for
// Distribution Estimation"): the conditioner of the autoregressive flows
// (flows/bijectors/masked_autoregressive.hpp). A stack of masked linear layers whose outputs
// for input dimension i depend only on the dimensions that come before i in an order.
//
// Degrees. The order lists the D input dimensions in generation order: order[0] comes first.
// Input dimension order[k] gets degree k + 1 (1..D). Hidden unit u of every hidden layer gets
// degree (u mod (D - 1)) + 1, i.e. the values 1..D-1 in turn, so every degree is present once
// H >= D - 1 (for D = 1 all hidden units have degree 1 and reach no output). Output unit
// param_channel(p, j, D) — parameter p of dimension j in the transformer's layout
// (flows/transformers/transformer.hpp) — gets the degree of dimension j.
// Masks (1 = connected), for a weight (out, in):
//   into a hidden unit:  degree(out) >= degree(in)
//   into an output unit: degree(out) >  degree(in)   (strictly: dimension j never sees itself)
// so output (p, j) depends on x_i only if degree(i) < degree(j): the Jacobian of the outputs
// with respect to the input is exactly zero elsewhere (tests/flows/test_autoregressive.cpp).
//
// Architecture, with every linear map masked and ReLU activations:
//   plain     x -> [L -> ReLU] x n_hidden -> L_out                       (n_hidden + 1 maps)
//   residual  x -> L_in -> [h + L_b2(ReLU(L_b1(ReLU(h))))] x n_hidden -> ReLU -> L_out
//             (each block maps degrees to the same degrees, so the skip keeps the property)
// A masked layer is linear(x, weight * mask, bias): the product with the fixed 0/1 mask is an
// ordinary differentiable mul, so masked weights get exactly zero gradient and stay unused.
// Initialisation as MLP (PyTorch's nn.Linear default); zero_init_last zeroes the output map,
// so every parameter is 0 and a fresh affine autoregressive layer is the identity.
//
// Parameters: "weight0", "bias0", ... in application order (weight (out, in)). The order is
// the persistent buffer "order" (integers held in T, like Permutation's "indices"), so a
// restored model keeps its order; the masks are rebuilt from it whenever it changes.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "../../autograd/nn/module.hpp"
#include "../../tensor/random.hpp"

namespace fz {

// Where parameter p of dimension j sits among P * k outputs (Transformer::param_channel).
using ParamLayout = std::function<std::size_t(std::size_t p, std::size_t j, std::size_t k)>;

// The blocked layout p * k + j (Transformer's default).
ParamLayout blocked_param_layout();

// 0, 1, ..., d - 1.
std::vector<std::size_t> natural_order(std::size_t d);

struct MadeConfig {
  std::size_t features = 0;        // D, the input dimension
  std::size_t hidden = 64;         // H, width of every hidden layer
  std::size_t n_hidden = 2;        // plain: hidden layers; residual: residual blocks
  std::size_t params_per_dim = 2;  // P, the transformer's parameters_per_element()
  bool residual = false;           // residual blocks instead of a plain stack
  bool zero_init_last = false;     // output map starts at 0 (flows start as the identity)
};

template <typename T>
class MADE : public Layer<T> {
 public:
  // `order`: a permutation of 0..D-1 (natural_order(D), or rng.permutation(D) for a random
  // one). `layout`: the transformer's param_channel. Throws std::invalid_argument on zero
  // sizes or an order that is not a permutation of 0..D-1.
  MADE(const MadeConfig& config, const std::vector<std::size_t>& order, Rng& rng,
       ParamLayout layout = blocked_param_layout());
  std::string type_name() const override { return "MADE"; }

  // x: (B, D) -> (B, P * D), parameter p of dimension j at column layout(p, j, D).
  Var<T> forward(const Var<T>& x) override;

  // weight<l> * mask<l> for every map, as ops on the tape. forward computes them each call;
  // a caller running the network many times on one set of weights (the D passes of an
  // autoregressive inverse) computes them once and passes them to forward_with.
  std::vector<Var<T>> masked_weights();
  Var<T> forward_with(const Var<T>& x, const std::vector<Var<T>>& masked_weights);

  const MadeConfig& config() const { return config_; }
  // The bias of the output map (P * D, in the layout's column order).
  const Var<T>& output_bias() const { return biases_.back(); }
  // The current order (read from the buffer "order").
  std::vector<std::size_t> order() const;
  // degree of each input dimension (1..D), indexed by dimension.
  std::vector<std::size_t> input_degrees() const;
  // degree of each output column (P * D of them).
  std::vector<std::size_t> output_degrees() const;
  // degree of each hidden unit (H of them; the same in every hidden layer).
  std::vector<std::size_t> hidden_degrees() const;
  // The 0/1 masks (out, in) of the linear maps in application order (as "weight<l>").
  std::vector<Tensor<T>> masks();

 private:
  void rebuild_masks_if_stale();

  MadeConfig config_;
  ParamLayout layout_;
  Tensor<T> order_buffer_;
  std::vector<std::size_t> mask_order_;  // the order the cached masks were built for
  std::vector<Var<T>> weights_, biases_;
  std::vector<Tensor<T>> masks_;
};

extern template class MADE<float>;
extern template class MADE<double>;

}  // namespace fz
