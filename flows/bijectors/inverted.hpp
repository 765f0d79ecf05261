// flows/bijectors/inverted.hpp — Inverted<T>: a bijector with its two directions swapped
// (forward runs the wrapped layer's inverse, and the other way round). The conformance harness
// (tests/flows/bijector_registry.cpp) registers the planar and radial flows through it too, so
// their generative direction — the one the reverse-KL fit differentiates — gets the forward
// direction's full set of checks (numeric-Jacobian log-det, input and parameter gradients).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "../bijector.hpp"

namespace fz {

template <typename T>
class Inverted : public Bijector<T> {
 public:
  explicit Inverted(std::shared_ptr<Bijector<T>> inner) : inner_(inner) {
    if (!inner_) throw std::invalid_argument("Inverted: no bijector to invert");
    this->register_module("inner", inner_);
  }
  std::string type_name() const override { return "Inverted(" + inner_->type_name() + ")"; }
  Transformed<T> forward(const Var<T>& x) override { return inner_->inverse(x); }
  Transformed<T> inverse(const Var<T>& z) override { return inner_->forward(z); }
  Shape forward_shape(const Shape& in) const override { return inner_->inverse_shape(in); }
  Shape inverse_shape(const Shape& out) const override { return inner_->forward_shape(out); }

 private:
  std::shared_ptr<Bijector<T>> inner_;
};

}  // namespace fz
