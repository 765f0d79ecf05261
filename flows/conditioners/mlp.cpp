// flows/conditioners/mlp.cpp — the MLP conditioner (Linear/ReLU stack).
#include "flows/conditioners/mlp.hpp"

#include <cmath>
#include <stdexcept>

#include "autograd/ops_matmul.hpp"

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
    const std::size_t fi = sizes[l], fo = sizes[l + 1];
    const bool zero = zero_init_last && l + 2 == sizes.size();
    const double bound = 1.0 / std::sqrt(static_cast<double>(fi));
    Tensor<T> w = zero ? Tensor<T>({fo, fi}) : rng.uniform<T>({fo, fi}, -bound, bound);
    Tensor<T> b = zero ? Tensor<T>({fo}) : rng.uniform<T>({fo}, -bound, bound);
    weights_.push_back(this->register_parameter("weight" + std::to_string(l), std::move(w)));
    biases_.push_back(this->register_parameter("bias" + std::to_string(l), std::move(b)));
  }
}

template <typename T>
Var<T> MLP<T>::forward(const Var<T>& x) {
  if (x.dim() != 2 || x.shape()[1] != in_)
    throw std::invalid_argument("MLP: expected input (B, " + std::to_string(in_) + "), got " +
                                shape_str(x.shape()));
  Var<T> h = x;
  // Hidden layers as one fused linear + ReLU op each (one tape node, no separate ReLU pass).
  for (std::size_t l = 0; l < weights_.size(); ++l)
    h = l + 1 < weights_.size() ? linear_relu(h, weights_[l], biases_[l])
                                : linear(h, weights_[l], biases_[l]);
  return h;
}

template class MLP<float>;
template class MLP<double>;

}  // namespace fz
