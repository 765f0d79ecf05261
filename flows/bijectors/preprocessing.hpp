// flows/bijectors/preprocessing.hpp — the fixed bijectors between [0,1] pixel intensities and
// the space the flow works in. Their log-dets are part of log p(x), hence of bits/dim.
//   AffineScalar(a, b): y = a x + b                 log|det| = D log|a|    ("centered": a=1, b=-1/2)
//   Logit(alpha):       p = alpha + (1 - 2 alpha) x, y = log p - log(1 - p)
//                       log|det| = sum over dims of log(1 - 2 alpha) - log p - log(1 - p)
//   Flatten:            (B, C, H, W) -> (B, C*H*W)   log|det| = 0  (vector flows on images, NICE)
#pragma once

#include <string>

#include "../bijector.hpp"

namespace fz {

template <typename T>
class AffineScalar : public Bijector<T> {
 public:
  AffineScalar(T scale, T shift);
  std::string type_name() const override { return "AffineScalar"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

 private:
  T scale_, shift_;
};

template <typename T>
class Logit : public Bijector<T> {
 public:
  explicit Logit(T alpha);
  std::string type_name() const override { return "Logit"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;

 private:
  T alpha_;
};

template <typename T>
class Flatten : public Bijector<T> {
 public:
  // event_shape: one sample's shape before flattening, e.g. {1, 28, 28}.
  explicit Flatten(Shape event_shape) : event_shape_(std::move(event_shape)) {}
  std::string type_name() const override { return "Flatten"; }
  Transformed<T> forward(const Var<T>& x) override;
  Transformed<T> inverse(const Var<T>& y) override;
  Shape forward_shape(const Shape& in) const override { return {in.at(0), shape_numel(event_shape_)}; }
  Shape inverse_shape(const Shape& out) const override;

 private:
  Shape event_shape_;
};

extern template class AffineScalar<float>;
extern template class AffineScalar<double>;
extern template class Logit<float>;
extern template class Logit<double>;
extern template class Flatten<float>;
extern template class Flatten<double>;

}  // namespace fz
