// flows/transformers/rational_quadratic_spline.hpp — the neural spline flow transformer
// (Durkan et al. 2019): each transformed element goes through its own monotone
// rational-quadratic spline with K bins on [-B, B] and identity tails, parameterised by
// P = 3K - 1 conditioner outputs in the blocked layout (K unnormalised widths, K unnormalised
// heights, K - 1 unnormalised interior derivatives; parameter p of channel j at channel
// p * k + j). The work is one fused op, autograd/ops_rational_quadratic_spline.hpp, which has
// the formulas; this class adapts it to the Transformer interface (transformer.hpp). It owns no
// parameters of its own.
#pragma once

#include <string>
#include <vector>

#include "../../autograd/ops_rational_quadratic_spline.hpp"
#include "transformer.hpp"

namespace fz {

template <typename T>
class RationalQuadraticSplineTransformer : public Transformer<T> {
 public:
  // `options.inverse` is ignored (forward and inverse pick the direction). Throws
  // std::invalid_argument for options out of range (see check_rational_quadratic_spline_options).
  explicit RationalQuadraticSplineTransformer(const RationalQuadraticSplineOptions& options = {});

  std::string type_name() const override { return "RationalQuadraticSplineTransformer"; }
  // 3K - 1.
  std::size_t parameters_per_element() const override { return 3 * options_.bins - 1; }
  Elementwise<T> forward(const Var<T>& x, const Var<T>& params) override;
  Elementwise<T> inverse(const Var<T>& y, const Var<T>& params) override;

  // Equal width and height inputs give equal bins; interior-derivative inputs
  // softplus^{-1}(1 - min_derivative) give every derivative 1: the identity. (A zero output
  // alone gives equal bins but derivatives min_derivative + softplus(0) = 0.69.)
  std::vector<double> identity_parameters() const override;

  const RationalQuadraticSplineOptions& options() const { return options_; }

 private:
  RationalQuadraticSplineOptions options_;
};

extern template class RationalQuadraticSplineTransformer<float>;
extern template class RationalQuadraticSplineTransformer<double>;

}  // namespace fz
