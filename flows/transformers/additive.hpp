// flows/transformers/additive.hpp — the additive transformer (NICE; Glow's additive coupling):
//   y = x + t,   x = y - t,   log-derivative 0,
// with one parameter per element (P = 1): params is t itself, shaped like x.
#pragma once

#include <string>

#include "transformer.hpp"

namespace fz {

template <typename T>
class AdditiveTransformer : public Transformer<T> {
 public:
  std::string type_name() const override { return "Additive"; }
  std::size_t parameters_per_element() const override { return 1; }
  bool volume_preserving() const override { return true; }
  Elementwise<T> forward(const Var<T>& x, const Var<T>& params) override;
  Elementwise<T> inverse(const Var<T>& y, const Var<T>& params) override;
};

extern template class AdditiveTransformer<float>;
extern template class AdditiveTransformer<double>;

}  // namespace fz
