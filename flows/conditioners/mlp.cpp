// flows/conditioners/mlp.cpp — the MLP conditioner: a stack of Linear maps with ReLUs.
#include "flows/conditioners/mlp.hpp"

#include <stdexcept>

namespace fz {

template <typename T>
MLP<T>::MLP(std::size_t in_features, std::size_t hidden, std::size_t n_hidden,
            std::size_t out_features, Rng& rng, bool zero_init_last)
    : in_(in_features), out_(out_features) {
  if (in_features == 0 || out_features == 0 || (n_hidden > 0 && hidden == 0))
    throw std::invalid_argument("MLP: sizes must be positive (in " + std::to_string(in_features) +
                                ", hidden " + std::to_string(hidden) + ", out " +
                                std::to_string(out_features) + ")");
  std::vector<std::size_t> sizes{in_features};
  for (std::size_t i = 0; i < n_hidden; ++i) sizes.push_back(hidden);
  sizes.push_back(out_features);
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const bool zero = zero_init_last && l + 2 == sizes.size();
    auto layer = std::make_shared<Linear<T>>(sizes[l], sizes[l + 1], rng, /*bias=*/true,
                                             zero ? LinearInit::Zeros : LinearInit::Default);
    this->register_parameter("weight" + std::to_string(l), layer->weight());
    this->register_parameter("bias" + std::to_string(l), layer->bias());
    layers_.push_back(std::move(layer));
  }
}

template <typename T>
Var<T> MLP<T>::forward(const Var<T>& x) {
  if (x.dim() != 2 || x.shape()[1] != in_)
    throw std::invalid_argument("MLP: expected input (B, " + std::to_string(in_) + "), got " +
                                shape_str(x.shape()));
  Var<T> h = x;
  // Hidden layers as one fused linear + ReLU op each (one tape node, no separate ReLU pass).
  for (std::size_t l = 0; l < layers_.size(); ++l)
    h = l + 1 < layers_.size() ? layers_[l]->forward_relu(h) : layers_[l]->forward(h);
  return h;
}

template class MLP<float>;
template class MLP<double>;

}  // namespace fz
