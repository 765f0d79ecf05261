// flows/bijectors/diagonal_scaling.hpp — NICE's final scaling layer.
//   forward:  z = x * exp(s)     log|det J| = sum(s)
//   inverse:  x = z * exp(-s)    log|det J| = -sum(s)
// s is a learned parameter "log_scale" with one entry per dimension of a sample (shape =
// the per-sample shape, e.g. (784) or (C, H, W)), initialised to 0.
#pragma once

#include <string>

#include "../bijector.hpp"

namespace fz {

template <typename T>
class DiagonalScaling : public Bijector<T> {
 public:
  // `sample_shape`: the shape of one sample (the input without its batch axis).
  explicit DiagonalScaling(const Shape& sample_shape);
  std::string type_name() const override { return "DiagonalScaling"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& z) override;

  const Var<T>& log_scale() const { return log_scale_; }

 private:
  Transformed<T> apply(const Var<T>& x, T sign, const char* who);
  Var<T> log_scale_;
};

extern template class DiagonalScaling<float>;
extern template class DiagonalScaling<double>;

}  // namespace fz
