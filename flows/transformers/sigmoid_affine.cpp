// flows/transformers/sigmoid_affine.cpp — Glow's y = (x + shift) * sigmoid(pre + 2).
#include "flows/transformers/sigmoid_affine.hpp"

#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "flows/channel_split.hpp"

namespace fz {

namespace {

// (shift, pre + 2) from the interleaved params, after checking they fit x.
template <typename T>
std::pair<Var<T>, Var<T>> shift_and_logit(const Var<T>& x, const Var<T>& params, const char* who) {
  Shape want = x.shape();
  if (want.size() >= 2) want[1] *= 2;
  if (x.dim() < 2 || params.shape() != want)
    throw std::invalid_argument(std::string(who) + ": for an input " + shape_str(x.shape()) +
                                " the parameters must be " + shape_str(want) + " (shift, pre interleaved), got " +
                                shape_str(params.shape()));
  auto [shift, pre] = interleaved_channels(params);
  return {shift, pre + T(2)};
}

}  // namespace

template <typename T>
Elementwise<T> SigmoidAffineTransformer<T>::forward(const Var<T>& x, const Var<T>& params) {
  auto [shift, z] = shift_and_logit(x, params, "SigmoidAffineTransformer::forward");
  return {(x + shift) * sigmoid(z), logsigmoid(z)};
}

template <typename T>
Elementwise<T> SigmoidAffineTransformer<T>::inverse(const Var<T>& y, const Var<T>& params) {
  auto [shift, z] = shift_and_logit(y, params, "SigmoidAffineTransformer::inverse");
  return {y / sigmoid(z) - shift, neg(logsigmoid(z))};
}

template class SigmoidAffineTransformer<float>;
template class SigmoidAffineTransformer<double>;

}  // namespace fz
