// flows/bijectors/permutation.cpp — Reverse (flip of axis 1) and Permutation (gather along
// axis 1 with a stored order).
#include "flows/bijectors/permutation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/ops_layout.hpp"
#include "autograd/ops_select_channels.hpp"

namespace fz {

namespace {

void check_perm(const std::vector<std::size_t>& perm, const char* who) {
  std::vector<bool> seen(perm.size(), false);
  for (std::size_t p : perm) {
    if (p >= perm.size() || seen[p])
      throw std::invalid_argument(std::string(who) + ": not a permutation of 0.." +
                                  std::to_string(perm.size() - 1));
    seen[p] = true;
  }
}

std::vector<std::size_t> inverse_perm(const std::vector<std::size_t>& perm) {
  std::vector<std::size_t> inv(perm.size());
  for (std::size_t j = 0; j < perm.size(); ++j) inv[perm[j]] = j;
  return inv;
}

}  // namespace

template <typename T>
Var<T> permute_channels(const Var<T>& x, const std::vector<std::size_t>& perm) {
  if (x.dim() < 2 || x.shape()[1] != perm.size())
    throw std::invalid_argument("permute_channels: permutation of " + std::to_string(perm.size()) +
                                " channels applied to " + shape_str(x.shape()));
  // The Jacobian is a permutation matrix: the gradient goes back to the channels it came from.
  return select_channels(x, perm, "permute_channels");
}

template <typename T>
Transformed<T> Reverse<T>::forward(const Var<T>& x) {
  if (x.dim() < 2) throw std::invalid_argument("Reverse: needs (B, C, ...), got " + shape_str(x.shape()));
  return {flip(x, 1), zero_logdet<T>(x.shape()[0])};
}

template <typename T>
Transformed<T> Reverse<T>::inverse(const Var<T>& z) {
  return forward(z);
}

template <typename T>
Permutation<T>::Permutation(std::size_t channels, Rng& rng)
    : Permutation(rng.permutation(channels)) {}

template <typename T>
Permutation<T>::Permutation(const std::vector<std::size_t>& perm) {
  if (perm.empty()) throw std::invalid_argument("Permutation: empty permutation");
  check_perm(perm, "Permutation");
  Tensor<T> idx({perm.size()});
  for (std::size_t j = 0; j < perm.size(); ++j) idx[j] = static_cast<T>(perm[j]);
  indices_ = this->register_buffer("indices", std::move(idx));
}

template <typename T>
std::vector<std::size_t> Permutation<T>::indices() const {
  std::vector<std::size_t> perm(indices_.numel());
  for (std::size_t j = 0; j < perm.size(); ++j)
    perm[j] = static_cast<std::size_t>(std::lround(static_cast<double>(indices_[j])));
  check_perm(perm, "Permutation (restored indices)");
  return perm;
}

template <typename T>
Transformed<T> Permutation<T>::forward(const Var<T>& x) {
  return {permute_channels(x, indices()), zero_logdet<T>(x.shape().at(0))};
}

template <typename T>
Transformed<T> Permutation<T>::inverse(const Var<T>& z) {
  return {permute_channels(z, inverse_perm(indices())), zero_logdet<T>(z.shape().at(0))};
}

template Var<float> permute_channels<float>(const Var<float>&, const std::vector<std::size_t>&);
template Var<double> permute_channels<double>(const Var<double>&, const std::vector<std::size_t>&);
template class Reverse<float>;
template class Reverse<double>;
template class Permutation<float>;
template class Permutation<double>;

}  // namespace fz
