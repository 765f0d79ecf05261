// flows/bijectors/permutation.hpp — fixed reorderings of axis 1 (features of a vector,
// channels of an image). Permutations: log|det J| = 0.
//   Reverse:      y[:, j] = x[:, C - 1 - j]                         (its own inverse)
//   Permutation:  y[:, j] = x[:, perm[j]],  x[:, perm[j]] = y[:, j] on the way back.
// Permutation's order is drawn once from an Rng at construction (or given) and stored as the
// persistent buffer "indices" (integer values held in T), so a model restored from a
// checkpoint uses the same order as the one that was saved.
#pragma once

#include <string>
#include <vector>

#include "../bijector.hpp"
#include "../../tensor/random.hpp"

namespace fz {

template <typename T>
class Reverse : public Bijector<T> {
 public:
  Reverse() = default;
  std::string type_name() const override { return "Reverse"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& z) override;
};

template <typename T>
class Permutation : public Bijector<T> {
 public:
  // A uniformly random permutation of `channels` entries.
  Permutation(std::size_t channels, Rng& rng);
  // A given permutation (must contain each of 0..n-1 once).
  explicit Permutation(const std::vector<std::size_t>& perm);
  std::string type_name() const override { return "Permutation"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& z) override;

  // The current order (read from the buffer).
  std::vector<std::size_t> indices() const;

 private:
  Tensor<T> indices_;
};

// y[:, j] = x[:, perm[j]] for (B, C, ...) (differentiable; backward scatters with the inverse).
template <typename T>
Var<T> permute_channels(const Var<T>& x, const std::vector<std::size_t>& perm);

extern template class Reverse<float>;
extern template class Reverse<double>;
extern template class Permutation<float>;
extern template class Permutation<double>;

}  // namespace fz
