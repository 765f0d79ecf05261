// flows/transformers/sigmoid_affine.hpp — Glow's affine transformer:
//   scale = sigmoid(pre + 2)
//   forward  y = (x + shift) * scale      log-derivative log scale = logsigmoid(pre + 2) (stable)
//   inverse  x = y / scale - shift        log-derivative -logsigmoid(pre + 2)
// P = 2 in Glow's interleaved layout (param_channel): for transformed channel j, channel 2j of
// params is shift and channel 2j + 1 is pre, exactly as Glow's net output has always been read.
// At pre = shift = 0 (Glow's zero-initialised net) y = sigmoid(2) x, about 0.88 x.
#pragma once

#include <string>

#include "transformer.hpp"

namespace fz {

template <typename T>
class SigmoidAffineTransformer : public Transformer<T> {
 public:
  std::string type_name() const override { return "SigmoidAffine"; }
  std::size_t parameters_per_element() const override { return 2; }
  // p = 0 shift, p = 1 pre-scale, interleaved per channel.
  std::size_t param_channel(std::size_t p, std::size_t j, std::size_t) const override { return 2 * j + p; }
  Elementwise<T> forward(const Var<T>& x, const Var<T>& params) override;
  Elementwise<T> inverse(const Var<T>& y, const Var<T>& params) override;
};

extern template class SigmoidAffineTransformer<float>;
extern template class SigmoidAffineTransformer<double>;

}  // namespace fz
