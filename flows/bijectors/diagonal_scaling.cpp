// flows/bijectors/diagonal_scaling.cpp — z = x * exp(s), log-det sum(s).
#include "flows/bijectors/diagonal_scaling.hpp"

#include <algorithm>
#include <stdexcept>

#include "autograd/ops_elementwise.hpp"
#include "autograd/ops_reduce.hpp"

namespace fz {

template <typename T>
DiagonalScaling<T>::DiagonalScaling(const Shape& sample_shape) {
  if (sample_shape.empty() || shape_numel(sample_shape) == 0)
    throw std::invalid_argument("DiagonalScaling: empty sample shape " + shape_str(sample_shape));
  log_scale_ = this->register_parameter("log_scale", Tensor<T>(sample_shape));
}

template <typename T>
Transformed<T> DiagonalScaling<T>::apply(const Var<T>& x, T sign, const char* who) {
  const Shape& s = x.shape();
  if (s.size() != log_scale_.dim() + 1 || !std::equal(s.begin() + 1, s.end(), log_scale_.shape().begin()))
    throw std::invalid_argument(std::string(who) + ": expected a batch of samples shaped " +
                                shape_str(log_scale_.shape()) + ", got " + shape_str(s));
  Var<T> ls = sign > 0 ? log_scale_ : -log_scale_;
  // Broadcast (per-sample shape) against (B, ...); the log-det is the same for every sample.
  return {x * exp(ls), zero_logdet<T>(s[0]) + sum(ls)};
}

template <typename T>
Transformed<T> DiagonalScaling<T>::forward(const Var<T>& x) {
  return apply(x, T(1), "DiagonalScaling::forward");
}

template <typename T>
Transformed<T> DiagonalScaling<T>::inverse(const Var<T>& z) {
  return apply(z, T(-1), "DiagonalScaling::inverse");
}

template class DiagonalScaling<float>;
template class DiagonalScaling<double>;

}  // namespace fz
