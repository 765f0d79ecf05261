// flows/bijectors/squeeze.hpp — RealNVP/Glow squeeze as a bijector: space-to-depth 2x2,
//   forward (B, C, H, W) -> (B, 4C, H/2, W/2)  (squeeze2d, channel order of tensor/layout.hpp),
//   inverse the exact rearrangement back (unsqueeze2d). A permutation: log|det J| = 0.
#pragma once

#include <string>

#include "../bijector.hpp"

namespace fz {

template <typename T>
class Squeeze : public Bijector<T> {
 public:
  Squeeze() = default;
  std::string type_name() const override { return "Squeeze"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& z) override;
  Shape forward_shape(const Shape& in) const override;
  Shape inverse_shape(const Shape& out) const override;
};

extern template class Squeeze<float>;
extern template class Squeeze<double>;

}  // namespace fz
