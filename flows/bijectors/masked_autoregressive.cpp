// flows/bijectors/masked_autoregressive.cpp — MAF and IAF: the one-pass direct map, the
// D-pass solve, and the make_maf stack.
#include "flows/bijectors/masked_autoregressive.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "flows/bijectors/permutation.hpp"

namespace fz {

template <typename T>
AutoregressiveLayer<T>::AutoregressiveLayer(std::shared_ptr<MADE<T>> made,
                                            std::shared_ptr<Transformer<T>> transformer) {
  if (!made || !transformer) throw std::invalid_argument("AutoregressiveLayer: needs a MADE and a transformer");
  if (made->config().params_per_dim != transformer->parameters_per_element())
    throw std::invalid_argument("AutoregressiveLayer: the MADE outputs " +
                                std::to_string(made->config().params_per_dim) +
                                " parameters per dimension, the transformer needs " +
                                std::to_string(transformer->parameters_per_element()));
  // Each parameter the transformer reads for dimension j must come from an output unit with
  // j's degree; a MADE built for another layout would silently break the triangular structure.
  const std::size_t d = made->config().features;
  const std::vector<std::size_t> in = made->input_degrees(), out = made->output_degrees();
  for (std::size_t p = 0; p < transformer->parameters_per_element(); ++p)
    for (std::size_t j = 0; j < d; ++j) {
      const std::size_t c = transformer->param_channel(p, j, d);
      if (c >= out.size() || out[c] != in[j])
        throw std::invalid_argument("AutoregressiveLayer: the transformer reads parameter " + std::to_string(p) +
                                    " of dimension " + std::to_string(j) + " from MADE output " +
                                    std::to_string(c) + ", which does not have that dimension's degree "
                                    "(build the MADE with made_for_transformer)");
    }
  made_ = this->register_module("made", made);
  transformer_ = this->register_module("transformer", transformer);
}

template <typename T>
void AutoregressiveLayer<T>::check_input(const Var<T>& x) const {
  if (x.dim() != 2 || x.shape()[1] != made_->config().features)
    throw std::invalid_argument(this->type_name() + ": expected input (B, " +
                                std::to_string(made_->config().features) + "), got " + shape_str(x.shape()));
}

template <typename T>
Var<T> AutoregressiveLayer<T>::logdet_of(const Var<T>& log_derivative) const {
  // A volume-preserving transformer (additive) has log-derivatives identically 0.
  if (transformer_->volume_preserving()) return zero_logdet<T>(log_derivative.shape()[0]);
  return sum_per_sample(log_derivative);
}

template <typename T>
Transformed<T> AutoregressiveLayer<T>::direct(const Var<T>& u) {
  check_input(u);
  const Elementwise<T> out = transformer_->forward(u, made_->forward(u));
  return {out.value, logdet_of(out.log_derivative)};
}

template <typename T>
Transformed<T> AutoregressiveLayer<T>::solve(const Var<T>& v) {
  check_input(v);
  const std::vector<std::size_t> order = made_->order();
  const std::size_t d = order.size();
  // known[0, i] = 1 once dimension i is exact (positions 0..k of the order after pass k).
  Tensor<T> known({1, d});
  Var<T> u(Tensor<T>(v.shape()), false);
  // One set of masked weights for all D passes (one tape node per map, not D).
  const std::vector<Var<T>> weights = made_->masked_weights();
  for (std::size_t k = 0;; ++k) {
    Elementwise<T> pass = transformer_->inverse(v, made_->forward_with(u, weights));
    if (k + 1 == d) return {pass.value, logdet_of(pass.log_derivative)};
    known[order[k]] = T(1);
    u = mul(pass.value, Var<T>(known.clone(), false));
  }
}

template <typename T>
std::shared_ptr<MADE<T>> made_for_transformer(MadeConfig config, const std::vector<std::size_t>& order,
                                              std::shared_ptr<Transformer<T>> transformer, Rng& rng) {
  if (!transformer) throw std::invalid_argument("made_for_transformer: no transformer");
  config.params_per_dim = transformer->parameters_per_element();
  // The layout reads the transformer's param_channel; the MADE keeps it alive through the lambda.
  ParamLayout layout = [transformer](std::size_t p, std::size_t j, std::size_t k) {
    return transformer->param_channel(p, j, k);
  };
  auto made = std::make_shared<MADE<T>>(config, order, rng, layout);
  // A zero output map starts the layer at the transformer's identity (its identity_output).
  if (config.zero_init_last) start_at_identity(made->output_bias(), *transformer, config.features);
  return made;
}

template <typename T>
std::shared_ptr<Chain<T>> make_maf(std::size_t features, std::size_t layers, std::size_t hidden,
                                   std::size_t n_hidden, const TransformerFactory<T>& transformer,
                                   Rng& rng, bool residual) {
  if (layers == 0) throw std::invalid_argument("make_maf: needs at least one layer");
  if (!transformer) throw std::invalid_argument("make_maf: no transformer factory");
  auto chain = std::make_shared<Chain<T>>();
  for (std::size_t l = 0; l < layers; ++l) {
    if (l > 0) chain->add(std::make_shared<Reverse<T>>());
    MadeConfig config;
    config.features = features;
    config.hidden = hidden;
    config.n_hidden = n_hidden;
    config.residual = residual;
    config.zero_init_last = true;
    std::shared_ptr<Transformer<T>> tau = transformer();
    auto made = made_for_transformer<T>(config, natural_order(features), tau, rng);
    chain->add(std::make_shared<MaskedAutoregressiveFlow<T>>(made, tau));
  }
  return chain;
}

template class AutoregressiveLayer<float>;
template class AutoregressiveLayer<double>;
template class MaskedAutoregressiveFlow<float>;
template class MaskedAutoregressiveFlow<double>;
template class InverseAutoregressiveFlow<float>;
template class InverseAutoregressiveFlow<double>;
template std::shared_ptr<MADE<float>> made_for_transformer<float>(MadeConfig, const std::vector<std::size_t>&,
                                                                  std::shared_ptr<Transformer<float>>, Rng&);
template std::shared_ptr<MADE<double>> made_for_transformer<double>(MadeConfig, const std::vector<std::size_t>&,
                                                                    std::shared_ptr<Transformer<double>>, Rng&);
template std::shared_ptr<Chain<float>> make_maf<float>(std::size_t, std::size_t, std::size_t, std::size_t,
                                                       const TransformerFactory<float>&, Rng&, bool);
template std::shared_ptr<Chain<double>> make_maf<double>(std::size_t, std::size_t, std::size_t, std::size_t,
                                                         const TransformerFactory<double>&, Rng&, bool);

}  // namespace fz
